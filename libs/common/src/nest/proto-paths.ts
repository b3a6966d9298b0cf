import { join } from 'node:path';
import { repoRoot } from '#app/core';

/** Absolute path of the gRPC health proto (the same file whether running from source or dist/). */
export const HEALTH_PROTO_PATH = join(
  repoRoot(),
  'libs',
  'common',
  'proto',
  'grpc',
  'health',
  'v1',
  'health.proto',
);
