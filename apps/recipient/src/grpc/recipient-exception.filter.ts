import { status as GrpcStatus } from '@grpc/grpc-js';
import { Catch } from '@nestjs/common';
import { SenderMonitorErrorCode } from '#app/clients';
import { GrpcErrorMapper, GrpcExceptionFilter } from '#app/runtime';
import { RecipientErrorCode } from '../recipient.error.js';

// The Recipient's own codes, and the SenderMonitor's as seen from its client; the shared
// libraries' codes are mapped in #app/runtime. Full Records: a new code fails the build here.

const RECIPIENT: Record<RecipientErrorCode, GrpcStatus> = {
  [RecipientErrorCode.INVALID_REQUEST]: GrpcStatus.INVALID_ARGUMENT,
  [RecipientErrorCode.INSUFFICIENT_SENDER_RESERVE]: GrpcStatus.FAILED_PRECONDITION,
  [RecipientErrorCode.PARAMS_UNKNOWN]: GrpcStatus.FAILED_PRECONDITION,
  [RecipientErrorCode.PRICE_MISMATCH]: GrpcStatus.INVALID_ARGUMENT,
  [RecipientErrorCode.TOO_MANY_TICKETS]: GrpcStatus.INVALID_ARGUMENT,
  [RecipientErrorCode.RATE_LIMITED]: GrpcStatus.RESOURCE_EXHAUSTED,
  [RecipientErrorCode.INSUFFICIENT_BALANCE]: GrpcStatus.FAILED_PRECONDITION,
  [RecipientErrorCode.BALANCE_CONTENTION]: GrpcStatus.ABORTED,
  [RecipientErrorCode.CHAIN_UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [RecipientErrorCode.DATABASE_UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [RecipientErrorCode.SECRET_UNREADABLE]: GrpcStatus.INTERNAL,
  [RecipientErrorCode.SECRET_ROTATION_UNSUPPORTED]: GrpcStatus.FAILED_PRECONDITION,
};

/** Failures of the SenderMonitor service as its client reports them. */
const SENDER_MONITOR: Record<SenderMonitorErrorCode, GrpcStatus> = {
  [SenderMonitorErrorCode.INVALID_ARGUMENT]: GrpcStatus.INVALID_ARGUMENT,
  [SenderMonitorErrorCode.UNKNOWN_RECIPIENT]: GrpcStatus.FAILED_PRECONDITION,
  [SenderMonitorErrorCode.NO_RECIPIENT]: GrpcStatus.FAILED_PRECONDITION,
  [SenderMonitorErrorCode.TICKET_NOT_WINNING]: GrpcStatus.INVALID_ARGUMENT,
  [SenderMonitorErrorCode.STORE_FAILED]: GrpcStatus.UNAVAILABLE,
  [SenderMonitorErrorCode.CHAIN_UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [SenderMonitorErrorCode.UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [SenderMonitorErrorCode.BAD_RESPONSE]: GrpcStatus.INTERNAL,
  [SenderMonitorErrorCode.SUBSCRIPTION_CLOSED]: GrpcStatus.UNAVAILABLE,
  [SenderMonitorErrorCode.INTERNAL]: GrpcStatus.INTERNAL,
};

export const RECIPIENT_ERRORS = new GrpcErrorMapper({
  recipient: RECIPIENT,
  'sender-monitor': SENDER_MONITOR,
});

/** The Recipient's one gRPC exception filter. */
@Catch()
export class RecipientExceptionFilter extends GrpcExceptionFilter {
  constructor() {
    super(RECIPIENT_ERRORS);
  }
}
