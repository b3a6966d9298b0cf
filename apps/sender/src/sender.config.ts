import { configClass, hostPort, httpPortField, INFRA_ENV } from '#app/common';

export const SENDER_ENV = {
  ...INFRA_ENV,
  SENDER_GRPC_URL: { parse: hostPort, default: '127.0.0.1:8930', description: 'gRPC listen address' },
  SENDER_HTTP_PORT: httpPortField(8920),
};

export class SenderConfig extends configClass(SENDER_ENV) {}
