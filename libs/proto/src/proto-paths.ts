import { join } from 'node:path';
import { repoRoot } from '#app/core';

/**
 * Root of the .proto tree (imports are relative to it, e.g. `net/lp_rpc.proto`); pass it as
 * `includeDirs` to @grpc/proto-loader. The same directory from source and from `dist/`, since
 * the build does not copy .proto files.
 */
export const PROTO_DIR = join(repoRoot(), 'libs', 'proto', 'proto');

/** go-livepeer's payment messages, relative to PROTO_DIR. */
export const LP_RPC_PROTO = 'net/lp_rpc.proto';
/** go-livepeer's TicketRedeemer service, relative to PROTO_DIR. */
export const REDEEMER_PROTO = 'net/redeemer.proto';
/** Fully qualified gRPC service name of the Redeemer. */
export const TICKET_REDEEMER_SERVICE = 'net.TicketRedeemer';
