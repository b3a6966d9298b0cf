# One image for every ticketpay service; the command picks the app.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
ENV HTTP_HOST=0.0.0.0 LOG_FORMAT=json
CMD ["node", "dist/apps/sender/src/main.js"]
