// The payment message a sender signs against params a Recipient issued: the benches that send
// payments themselves (recipient, soak, the recipient load generator) build them here.
import type { GetTicketParamsResponse } from '#app/clients';
import { paymentCodec, priceInfoCodec, ticketParamsCodec, type PaymentMessage } from '#app/proto';
import { createTicketBatch, paymentFromTicketBatch, pricePerPixel } from '#app/ticket';

/** A Payment of one ticket per nonce, signed with `privateKey`, against `issued`. */
export function signedPayment(
  issued: GetTicketParamsResponse,
  nonces: number[],
  privateKey: Uint8Array,
): PaymentMessage {
  const params = ticketParamsCodec.fromMessage(issued.ticketParams);
  const priceInfo = priceInfoCodec.fromMessage(issued.priceInfo);
  const batch = createTicketBatch({
    params,
    expirationParams: params.expirationParams!,
    pricePerPixel: pricePerPixel(priceInfo),
    nonces,
    privateKey,
  });
  return paymentCodec.toMessage(paymentFromTicketBatch(batch, priceInfo));
}
