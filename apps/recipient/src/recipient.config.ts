import { configClass, hostPort, httpPortField, INFRA_ENV } from '#app/common';

export const RECIPIENT_ENV = {
  ...INFRA_ENV,
  RECIPIENT_GRPC_URL: { parse: hostPort, default: '127.0.0.1:8931', description: 'gRPC listen address' },
  RECIPIENT_HTTP_PORT: httpPortField(8921),
};

export class RecipientConfig extends configClass(RECIPIENT_ENV) {}
