import { join } from 'node:path';
import { PROTO_DIR } from '#app/proto';

/** The Recipient's gRPC package (ARCHITECTURE.md: `ticketpay.<service>.v1`, reusing `net.*` messages). */
export const RECIPIENT_GRPC_PACKAGE = 'ticketpay.recipient.v1';
export const RECIPIENT_GRPC_SERVICE = 'Recipient';
/** Absolute path of the service definition; its `net/lp_rpc.proto` import resolves against PROTO_DIR. */
export const RECIPIENT_PROTO_PATH = join(PROTO_DIR, 'ticketpay', 'recipient', 'v1', 'recipient.proto');
/** What bootstrapService needs to serve the Recipient's gRPC API. */
export const RECIPIENT_GRPC = {
  packages: [RECIPIENT_GRPC_PACKAGE],
  protoPaths: [RECIPIENT_PROTO_PATH],
  includeDirs: [PROTO_DIR],
};
