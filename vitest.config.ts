import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// Each tier is a vitest project so `npm test` runs all three and `--project` picks one.
const swcPlugin = swc.vite({
  module: { type: 'es6' },
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
  },
});

// Library aliases resolve to the TypeScript sources everywhere vitest loads code, global setup
// included (custom export conditions alone do not reach it, and dist/ may be stale).
const root = fileURLToPath(new URL('.', import.meta.url));
const alias = [
  { find: /^#app\/(.*)$/, replacement: `${root}libs/$1/src/index.ts` },
  { find: /^#migrations$/, replacement: `${root}migrations/index.ts` },
];

const shared = {
  plugins: [swcPlugin],
  resolve: { conditions: ['ticketpay-source'], alias },
  ssr: { resolve: { conditions: ['ticketpay-source'], externalConditions: ['ticketpay-source'] } },
};

export default defineConfig({
  ...shared,
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    pool: 'forks',
    projects: [
      {
        ...shared,
        test: { name: 'unit', include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts', 'scripts/**/*.spec.ts'] },
      },
      {
        ...shared,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.int-spec.ts'],
          globalSetup: ['./test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        ...shared,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e-spec.ts'],
          globalSetup: ['./test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
