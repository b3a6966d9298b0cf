import { AppError } from '#app/core';

/** Stable codes of every ticket-protocol failure; they are API and metric labels, never renamed. */
export enum TicketErrorCode {
  /** Malformed input (wrong byte length, out-of-range integer, bad hex, …). */
  INVALID_INPUT = 'INVALID_INPUT',

  // Recipient side: ValidateTicket (§6) and ReceiveTicket (§5.4).
  INVALID_RECIPIENT = 'INVALID_RECIPIENT',
  INVALID_SENDER = 'INVALID_SENDER',
  INVALID_RECIPIENT_RAND = 'INVALID_RECIPIENT_RAND',
  INVALID_SIGNATURE = 'INVALID_SIGNATURE',
  NONCE_ALREADY_SEEN = 'NONCE_ALREADY_SEEN',
  TOO_MANY_NONCES = 'TOO_MANY_NONCES',
  PARAMS_EXPIRED = 'PARAMS_EXPIRED',
  /** The sender's deposit and reserve unlock within a round (§7.3 step 8, §8.3). */
  SENDER_UNLOCKING = 'SENDER_UNLOCKING',

  // Payment assembly (§11.1, §11.2).
  MISSING_SENDER = 'MISSING_SENDER',
  MISSING_EXPIRATION_PARAMS = 'MISSING_EXPIRATION_PARAMS',
  INVALID_PRICE = 'INVALID_PRICE',

  // Sender side: validateTicketParams (§7.3).
  PARAMS_MISSING = 'PARAMS_MISSING',
  PARAMS_EXPIRATION_BLOCK_ZERO = 'PARAMS_EXPIRATION_BLOCK_ZERO',
  FACE_VALUE_TOO_LOW = 'FACE_VALUE_TOO_LOW',
  EV_TOO_HIGH = 'EV_TOO_HIGH',
  NO_SENDER_RESERVE = 'NO_SENDER_RESERVE',
  NO_SENDER_DEPOSIT = 'NO_SENDER_DEPOSIT',
  TOTAL_EV_TOO_HIGH = 'TOTAL_EV_TOO_HIGH',
  FACE_VALUE_TOO_HIGH = 'FACE_VALUE_TOO_HIGH',

  // Infrastructure, not the ticket's fault.
  CRYPTO_BACKEND_UNAVAILABLE = 'CRYPTO_BACKEND_UNAVAILABLE',
  VALIDATION_POOL_BUSY = 'VALIDATION_POOL_BUSY',
  VALIDATION_POOL_CLOSED = 'VALIDATION_POOL_CLOSED',
  VALIDATION_WORKER_FAILED = 'VALIDATION_WORKER_FAILED',
}

/**
 * Codes go-livepeer treats as acceptable (non-fatal): the ticket is not credited but the
 * payment's remaining tickets are still processed and a winner is still queued (§5.4, §11.2).
 * On the sender side the only acceptable one is PARAMS_EXPIRED: B refreshes its params and
 * goes on (§7.2). Every other code is fatal.
 */
const ACCEPTABLE_CODES: ReadonlySet<TicketErrorCode> = new Set([
  TicketErrorCode.INVALID_SIGNATURE,
  TicketErrorCode.NONCE_ALREADY_SEEN,
  TicketErrorCode.TOO_MANY_NONCES,
  TicketErrorCode.PARAMS_EXPIRED,
]);

/**
 * A ticket-protocol failure. Messages follow go-livepeer's wording so logs stay comparable;
 * they carry public values only (addresses, amounts, nonces), never keys, secrets or recipientRand.
 */
export class TicketError extends AppError<TicketErrorCode> {
  readonly domain = 'ticket';
  /** go-livepeer's FatalReceiveErr: stop processing the payment's remaining tickets. */
  readonly fatal: boolean;

  constructor(code: TicketErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.fatal = !ACCEPTABLE_CODES.has(code);
  }

  /** The opposite of `fatal`, named as in go-livepeer's receive error. */
  get acceptable(): boolean {
    return !this.fatal;
  }
}

/** Shorthand for the many input checks. */
export function invalidInput(message: string): TicketError {
  return new TicketError(TicketErrorCode.INVALID_INPUT, message);
}
