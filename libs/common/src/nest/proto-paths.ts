import { fileURLToPath } from 'node:url';

/** Absolute path of the gRPC health proto; resolved from source and from `dist/` alike. */
export const HEALTH_PROTO_PATH = fileURLToPath(
  new URL('../../proto/grpc/health/v1/health.proto', import.meta.url).href.replace('/dist/libs/', '/libs/'),
);
