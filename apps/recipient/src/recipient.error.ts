import { AppError } from '#app/common';

/** Stable codes of the Recipient's own failures (ticket-protocol ones are TicketErrorCode). */
export enum RecipientErrorCode {
  /** A request field is missing or malformed (address length, job id, amount, …). */
  INVALID_REQUEST = 'INVALID_REQUEST',
  /** The sender's max float cannot cover a useful face value (go-livepeer's wording, §5.2). */
  INSUFFICIENT_SENDER_RESERVE = 'INSUFFICIENT_SENDER_RESERVE',
  /** The payment names params this recipient never issued, or whose record expired. */
  PARAMS_UNKNOWN = 'PARAMS_UNKNOWN',
  /** The payment's expected price is not the price its params were issued for. */
  PRICE_MISMATCH = 'PRICE_MISMATCH',
  /** The payment carries more tickets than RECIPIENT_MAX_TICKETS_PER_PAYMENT. */
  TOO_MANY_TICKETS = 'TOO_MANY_TICKETS',
  /** The sender's accepted tickets this second reached RECIPIENT_MAX_TICKETS_PER_SECOND_PER_SENDER. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** A debit would take the balance below −max unsecured. */
  INSUFFICIENT_BALANCE = 'INSUFFICIENT_BALANCE',
  /** Concurrent updates of one balance kept conflicting; retry. */
  BALANCE_CONTENTION = 'BALANCE_CONTENTION',
  /** The chain (head, rounds, sender info) cannot be read right now. */
  CHAIN_UNAVAILABLE = 'CHAIN_UNAVAILABLE',
  /** Postgres (winning tickets) cannot be reached right now: retry. A payment refused so credited nothing. */
  DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE',
  /** The stored secret cannot be decrypted with RECIPIENT_SECRET_KEY (wrong key or tampered row). */
  SECRET_UNREADABLE = 'SECRET_UNREADABLE',
  /** Rotation asked for while the secret comes from configuration. */
  SECRET_ROTATION_UNSUPPORTED = 'SECRET_ROTATION_UNSUPPORTED',
}

/** A Recipient failure; messages carry public values only (addresses, amounts), never secrets. */
export class RecipientError extends AppError<RecipientErrorCode> {
  readonly domain = 'recipient';
}

export function invalidRequest(message: string): RecipientError {
  return new RecipientError(RecipientErrorCode.INVALID_REQUEST, message);
}
