import { join } from 'node:path';
import { PROTO_DIR } from '#app/proto';

/** Fully qualified gRPC service name of the Sender. */
export const SENDER_SERVICE = 'ticketpay.sender.v1.Sender';

/** The Sender's proto (it imports `net/lp_rpc.proto`, hence PROTO_DIR as include dir). */
export const SENDER_PROTO_PATH = join(PROTO_DIR, 'ticketpay', 'sender', 'v1', 'sender.proto');

/** What bootstrapService needs to serve the Sender API beside gRPC health. */
export const SENDER_GRPC = {
  packages: ['ticketpay.sender.v1'],
  protoPaths: [SENDER_PROTO_PATH],
  includeDirs: [PROTO_DIR],
};
