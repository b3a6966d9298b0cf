import { AppError } from '#app/common';

/** Stable codes of the ops API; the HTTP filter maps each to a status. Clients match on them. */
export enum OpsErrorCode {
  /** No valid bearer token (and no valid request signature where one is accepted). */
  UNAUTHORIZED = 'UNAUTHORIZED',
  /** A signed request names a block more than OPS_SIGNATURE_MAX_AGE_BLOCKS behind the head. */
  STALE_BLOCK = 'STALE_BLOCK',
  /** A signed request names a block the chain has not reached. */
  BLOCK_AHEAD = 'BLOCK_AHEAD',
  /** The signature headers are malformed or do not recover to the configured recipient. */
  BAD_SIGNATURE = 'BAD_SIGNATURE',
  /** The same signed request was presented before. */
  SIGNATURE_REPLAYED = 'SIGNATURE_REPLAYED',
  INVALID_REQUEST = 'INVALID_REQUEST',
  TICKET_NOT_FOUND = 'TICKET_NOT_FOUND',
  /** The ticket is redeemed, failed or expired: nothing to start. */
  TICKET_FINAL = 'TICKET_FINAL',
  /** REDEEMER_URL is not configured. */
  REDEEMER_NOT_CONFIGURED = 'REDEEMER_NOT_CONFIGURED',
  /** The Redeemer did not answer, or is not active. */
  REDEEMER_UNAVAILABLE = 'REDEEMER_UNAVAILABLE',
  /** The Redeemer answered with an error the ops API does not map (its code is in the message). */
  REDEEMER_REFUSED = 'REDEEMER_REFUSED',
  /** The chain head cannot be read (needed to check a signed request's block). */
  CHAIN_UNAVAILABLE = 'CHAIN_UNAVAILABLE',
}

export class OpsError extends AppError<OpsErrorCode> {
  readonly domain = 'ops';
}
