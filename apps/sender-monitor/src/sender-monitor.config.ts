import { configClass, hostPort, httpPortField, INFRA_ENV } from '#app/common';

export const SENDER_MONITOR_ENV = {
  ...INFRA_ENV,
  SENDER_MONITOR_GRPC_URL: { parse: hostPort, default: '127.0.0.1:8935', description: 'gRPC listen address' },
  SENDER_MONITOR_HTTP_PORT: httpPortField(8925),
};

export class SenderMonitorConfig extends configClass(SENDER_MONITOR_ENV) {}
