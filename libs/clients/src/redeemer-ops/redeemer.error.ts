import { AppError } from '#app/common';

/** Stable codes of the Redeemer's operator API; they map to HTTP statuses in the ops filter. */
export enum RedeemerErrorCode {
  UNAUTHORIZED = 'UNAUTHORIZED',
  INVALID_REQUEST = 'INVALID_REQUEST',
  INVALID_TICKET_HASH = 'INVALID_TICKET_HASH',
  TICKET_NOT_FOUND = 'TICKET_NOT_FOUND',
  /** The ticket is redeemed, failed or expired already: nothing to redeem. */
  TICKET_FINAL = 'TICKET_FINAL',
  /** The ticket pays a recipient outside REDEEMER_RECIPIENTS. */
  NOT_SERVED = 'NOT_SERVED',
  /** The Redeemer is not active yet (standing by for the signer lease, or the chain is down). */
  NOT_ACTIVE = 'NOT_ACTIVE',
  NO_FEES = 'NO_FEES',
  /** The withdrawal simulation reverted or its tx did not succeed. */
  WITHDRAWAL_FAILED = 'WITHDRAWAL_FAILED',
}

export class RedeemerError extends AppError<RedeemerErrorCode> {
  readonly domain = 'redeemer';
}
