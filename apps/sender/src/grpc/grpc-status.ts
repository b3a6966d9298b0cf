import { status } from '@grpc/grpc-js';
import { SenderErrorCode } from '../sender.error.js';

// The Sender's own codes; the shared libraries' codes are mapped in #app/runtime. A full Record, so
// adding a code fails the build until it is mapped here.

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
  [SenderErrorCode.RATE_LIMITED]: status.RESOURCE_EXHAUSTED,
  [SenderErrorCode.SPEND_CAP_REACHED]: status.RESOURCE_EXHAUSTED,
  [SenderErrorCode.CHAIN_UNAVAILABLE]: status.UNAVAILABLE,
  [SenderErrorCode.SIGNER_UNAVAILABLE]: status.UNAVAILABLE,
  // The signing service is this node's dependency, not the caller's: its faults are ours.
  [SenderErrorCode.SIGNER_REFUSED]: status.INTERNAL,
  [SenderErrorCode.SIGNER_BAD_RESPONSE]: status.INTERNAL,
  [SenderErrorCode.SIGNER_WRONG_ACCOUNT]: status.INTERNAL,
};
