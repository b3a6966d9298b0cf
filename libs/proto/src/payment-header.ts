import type { Payment } from '#app/ticket';
import { paymentCodec, type PaymentMessage } from './lp-rpc-codecs.js';
import { ProtoError, ProtoErrorCode } from './proto-error.js';

/** Go's base64.StdEncoding: standard alphabet with padding; Node's decoder alone would skip junk. */
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** `Livepeer-Payment` header value: base64 (standard, padded) of the protobuf Payment. */
export function encodePaymentHeader(payment: Payment): string {
  return paymentHeaderOf(paymentCodec.toMessage(payment));
}

/**
 * The same header from the Payment's message (`paymentCodec.toMessage`), for a caller that sends
 * the message too (the Sender's CreateTicketBatch response): the Payment is converted once.
 */
export function paymentHeaderOf(message: PaymentMessage): string {
  const bytes = paymentCodec.encodeMessage(message);
  // A view, not a copy: the encoded bytes are read once, here.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Parses a `Livepeer-Payment` header value; throws ProtoError on bad base64 or a bad message. */
export function decodePaymentHeader(header: string): Payment {
  if (typeof header !== 'string' || !STD_BASE64.test(header)) {
    throw new ProtoError(
      ProtoErrorCode.INVALID_HEADER,
      'Livepeer-Payment header is not padded standard base64',
    );
  }
  return paymentCodec.decode(Buffer.from(header, 'base64'));
}
