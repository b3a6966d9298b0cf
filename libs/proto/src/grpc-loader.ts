import type { Options } from '@grpc/proto-loader';

/**
 * How every ticketpay gRPC server and client has @grpc/proto-loader load the .proto files, and so
 * the shape of the plain objects the `*Message` types describe: camelCase fields, 64-bit integers
 * as decimal strings, enums by name, absent fields filled with their defaults, and a oneof's set
 * member named (`form`, `result`). A side loading them otherwise would read other objects.
 * Where imports resolve (`includeDirs`) is each caller's own.
 */
export const GRPC_LOADER_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const satisfies Options;
