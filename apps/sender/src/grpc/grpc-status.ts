import { status } from '@grpc/grpc-js';
import { ProtoErrorCode } from '#app/proto';
import { TicketErrorCode } from '#app/ticket';
import { SenderErrorCode } from '../sender.error.js';

// One table per error domain, typed as a full Record so adding a code anywhere fails the build
// until it is mapped here.

export const SENDER_ERROR_STATUS: Record<SenderErrorCode, status> = {
  [SenderErrorCode.UNAUTHENTICATED]: status.UNAUTHENTICATED,
  [SenderErrorCode.ACCOUNT_NOT_PERMITTED]: status.PERMISSION_DENIED,
  [SenderErrorCode.INVALID_REQUEST]: status.INVALID_ARGUMENT,
  [SenderErrorCode.SESSION_NOT_FOUND]: status.NOT_FOUND,
  [SenderErrorCode.SESSION_CONFLICT]: status.ALREADY_EXISTS,
  [SenderErrorCode.RECIPIENT_NOT_ALLOWED]: status.PERMISSION_DENIED,
  [SenderErrorCode.PRICE_TOO_HIGH]: status.FAILED_PRECONDITION,
  [SenderErrorCode.WIN_PROB_ZERO]: status.INVALID_ARGUMENT,
  // The caller must fetch fresh params: the session is used up, like a quota.
  [SenderErrorCode.NONCE_CAP_REACHED]: status.RESOURCE_EXHAUSTED,
  [SenderErrorCode.CHAIN_UNAVAILABLE]: status.UNAVAILABLE,
};

export const TICKET_ERROR_STATUS: Record<TicketErrorCode, status> = {
  [TicketErrorCode.INVALID_INPUT]: status.INVALID_ARGUMENT,
  // Recipient-side codes; the Sender does not raise them, mapped for completeness.
  [TicketErrorCode.INVALID_RECIPIENT]: status.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_SENDER]: status.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_RECIPIENT_RAND]: status.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_SIGNATURE]: status.INVALID_ARGUMENT,
  [TicketErrorCode.NONCE_ALREADY_SEEN]: status.ALREADY_EXISTS,
  [TicketErrorCode.TOO_MANY_NONCES]: status.RESOURCE_EXHAUSTED,
  // Refresh the params and retry (go-livepeer's one acceptable sender-side error).
  [TicketErrorCode.PARAMS_EXPIRED]: status.FAILED_PRECONDITION,
  [TicketErrorCode.SENDER_UNLOCKING]: status.FAILED_PRECONDITION,
  [TicketErrorCode.MISSING_SENDER]: status.INVALID_ARGUMENT,
  [TicketErrorCode.MISSING_EXPIRATION_PARAMS]: status.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_PRICE]: status.INVALID_ARGUMENT,
  [TicketErrorCode.PARAMS_MISSING]: status.INVALID_ARGUMENT,
  [TicketErrorCode.PARAMS_EXPIRATION_BLOCK_ZERO]: status.INVALID_ARGUMENT,
  [TicketErrorCode.FACE_VALUE_TOO_LOW]: status.INVALID_ARGUMENT,
  [TicketErrorCode.EV_TOO_HIGH]: status.INVALID_ARGUMENT,
  [TicketErrorCode.TOTAL_EV_TOO_HIGH]: status.INVALID_ARGUMENT,
  // Depend on the sender's on-chain funds: fixable by funding, not by changing the request.
  [TicketErrorCode.NO_SENDER_RESERVE]: status.FAILED_PRECONDITION,
  [TicketErrorCode.NO_SENDER_DEPOSIT]: status.FAILED_PRECONDITION,
  [TicketErrorCode.FACE_VALUE_TOO_HIGH]: status.FAILED_PRECONDITION,
  [TicketErrorCode.CRYPTO_BACKEND_UNAVAILABLE]: status.INTERNAL,
  [TicketErrorCode.VALIDATION_POOL_BUSY]: status.RESOURCE_EXHAUSTED,
  [TicketErrorCode.VALIDATION_POOL_CLOSED]: status.UNAVAILABLE,
  [TicketErrorCode.VALIDATION_WORKER_FAILED]: status.INTERNAL,
};

export const PROTO_ERROR_STATUS: Record<ProtoErrorCode, status> = {
  [ProtoErrorCode.MALFORMED_MESSAGE]: status.INVALID_ARGUMENT,
  [ProtoErrorCode.INVALID_FIELD]: status.INVALID_ARGUMENT,
  [ProtoErrorCode.INVALID_HEADER]: status.INVALID_ARGUMENT,
};
