import { AppError } from '#app/common';

/** Stable codes of the Sender service's own failures; API and metric labels, never renamed. */
export enum SenderErrorCode {
  /** No `authorization: Bearer <token>` metadata, or a token this node does not know. */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** The caller's token is not bound to the sender account the request names. */
  ACCOUNT_NOT_PERMITTED = 'ACCOUNT_NOT_PERMITTED',
  /** A malformed request field (session id, batch size, sender address, …). */
  INVALID_REQUEST = 'INVALID_REQUEST',
  /** No live session with that id (never started, ended, or its params expired). */
  SESSION_NOT_FOUND = 'SESSION_NOT_FOUND',
  /** A session for these sender and recipientRandHash exists with different params or price. */
  SESSION_CONFLICT = 'SESSION_CONFLICT',
  /** The allowlist is on and the params' recipient is not in the contacts. */
  RECIPIENT_NOT_ALLOWED = 'RECIPIENT_NOT_ALLOWED',
  /** The expected price is above the contact's maximum price. */
  PRICE_TOO_HIGH = 'PRICE_TOO_HIGH',
  /** winProb is 0: such tickets can never win, so they pay nothing. */
  WIN_PROB_ZERO = 'WIN_PROB_ZERO',
  /** The batch would pass the recipient's nonce cap: fetch fresh params and start a new session. */
  NONCE_CAP_REACHED = 'NONCE_CAP_REACHED',
  /** The account's signed tickets this second reached SENDER_MAX_TICKETS_PER_SECOND_PER_SENDER; retry next second. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** The batch would take the API token past its spend cap (EV or face value, per window or total). */
  SPEND_CAP_REACHED = 'SPEND_CAP_REACHED',
  /** The chain head or the sender's on-chain info could not be read; retry later. */
  CHAIN_UNAVAILABLE = 'CHAIN_UNAVAILABLE',
  /** The remote signing service (Web3Signer) could not be reached, timed out or answered HTTP 5xx; retry later. */
  SIGNER_UNAVAILABLE = 'SIGNER_UNAVAILABLE',
  /** The remote signing service refused to sign (a JSON-RPC error: account not held, unauthorized, …). */
  SIGNER_REFUSED = 'SIGNER_REFUSED',
  /** The remote signing service answered something that is not a usable signature. */
  SIGNER_BAD_RESPONSE = 'SIGNER_BAD_RESPONSE',
  /** The remote signing service returned a valid signature by another key than the account's. */
  SIGNER_WRONG_ACCOUNT = 'SIGNER_WRONG_ACCOUNT',
}

/** A Sender service failure; messages carry public values only (addresses, sizes, nonces). */
export class SenderError extends AppError<SenderErrorCode> {
  readonly domain = 'sender';
}
