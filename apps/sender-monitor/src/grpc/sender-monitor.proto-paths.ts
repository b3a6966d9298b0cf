import { join } from 'node:path';
import { SENDER_MONITOR_PACKAGE, SENDER_MONITOR_PROTO_PATH } from '#app/clients';
import { PROTO_DIR, REDEEMER_PROTO } from '#app/proto';

/** What bootstrapService needs to serve go-livepeer's `net.TicketRedeemer` and our SenderMonitor API. */
export const SENDER_MONITOR_GRPC = {
  packages: ['net', SENDER_MONITOR_PACKAGE],
  protoPaths: [join(PROTO_DIR, REDEEMER_PROTO), SENDER_MONITOR_PROTO_PATH],
  includeDirs: [PROTO_DIR],
};
