import {
  decodePaymentHeader,
  paymentCodec,
  priceInfoCodec,
  type PriceInfoMessage,
  type RationalMessage,
  type WireBytes,
} from '#app/proto';
import { ADDRESS_LENGTH, Rational, isZeroBytes, type Payment, type PriceInfo } from '#app/ticket';
import { invalidRequest } from '../recipient.error.js';
import { MAX_PAYMENTS_PER_BATCH, type ProcessPaymentRequest } from '#app/clients';

/** Job ids are go-livepeer manifest / session ids: printable ASCII without spaces. */
const JOB_ID = /^[\x21-\x7e]{1,128}$/;
/** Amounts beyond this many digits are not money anyone has. */
const MAX_DIGITS = 160;

/** A 20-byte, non-zero address; exactly 20 bytes (no go-ethereum padding on our own API). */
export function readSender(value: WireBytes | null | undefined): Uint8Array {
  const bytes = value == null ? new Uint8Array(0) : Uint8Array.from(value);
  if (bytes.length !== ADDRESS_LENGTH) throw invalidRequest(`sender must be ${ADDRESS_LENGTH} bytes`);
  if (isZeroBytes(bytes)) throw invalidRequest('sender must not be the zero address');
  return bytes;
}

export function readJobId(value: string | null | undefined): string {
  if (typeof value !== 'string' || !JOB_ID.test(value)) {
    throw invalidRequest('job_id must be 1 to 128 printable ASCII characters without spaces');
  }
  return value;
}

export function readPrice(value: PriceInfoMessage | null | undefined): PriceInfo {
  if (!value) throw invalidRequest('price is required');
  return priceInfoCodec.fromMessage(value);
}

/** The Payment from either form of the request: the message itself or the `Livepeer-Payment` header. */
export function readPayment(request: ProcessPaymentRequest): Payment {
  if (request.form === 'payment' && request.payment) return paymentCodec.fromMessage(request.payment);
  if (request.form === 'paymentHeader' && request.paymentHeader)
    return decodePaymentHeader(request.paymentHeader);
  throw invalidRequest('payment or payment_header is required');
}

/** A ProcessPayments batch: 1 to MAX_PAYMENTS_PER_BATCH payments, each read on its own later. */
export function readBatch(value: ProcessPaymentRequest[] | null | undefined): ProcessPaymentRequest[] {
  const count = value?.length ?? 0;
  if (count === 0 || count > MAX_PAYMENTS_PER_BATCH) {
    throw invalidRequest(`payments must hold 1 to ${MAX_PAYMENTS_PER_BATCH} payments, not ${count}`);
  }
  return value!;
}

/** A non-negative exact amount. */
export function readAmount(value: RationalMessage | null | undefined, field: string): Rational {
  const num = value?.num ?? '';
  const den = value?.den || '1';
  if (!/^\d+$/.test(num) || num.length > MAX_DIGITS)
    throw invalidRequest(`${field}.num must be a non-negative integer`);
  if (!/^[1-9]\d*$/.test(den) || den.length > MAX_DIGITS)
    throw invalidRequest(`${field}.den must be a positive integer`);
  return Rational.of(BigInt(num), BigInt(den));
}
