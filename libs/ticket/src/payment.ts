import { TicketError, TicketErrorCode } from './errors.js';
import { Rational } from './rational.js';
import type { Payment, PriceInfo, TicketBatch } from './types.js';

/**
 * The reduced price per pixel of a PriceInfo, as go-livepeer parses `expected_price`. A
 * negative price is refused too: go-livepeer's HMAC drops the sign, so it would otherwise
 * verify like the positive price.
 */
export function pricePerPixel(price: PriceInfo | undefined): Rational {
  if (!price) throw new TicketError(TicketErrorCode.INVALID_PRICE, 'expected price is nil');
  if (price.pixelsPerUnit === 0n)
    throw new TicketError(TicketErrorCode.INVALID_PRICE, 'pixels per unit is 0');
  if (price.pricePerUnit < 0n || price.pixelsPerUnit < 0n) {
    throw new TicketError(TicketErrorCode.INVALID_PRICE, 'price must not be negative');
  }
  return Rational.of(price.pricePerUnit, price.pixelsPerUnit);
}

/**
 * The ticket batch a Payment carries (§11.2), or undefined for a payment without ticket params
 * (B only announcing its price). go-livepeer would panic on missing expiration params; they
 * are refused here instead.
 */
export function ticketBatchFromPayment(payment: Payment): TicketBatch | undefined {
  if (!payment.ticketParams) return undefined;
  if (!payment.sender)
    throw new TicketError(TicketErrorCode.MISSING_SENDER, 'Could not find Sender for payment');
  if (!payment.expirationParams) {
    throw new TicketError(
      TicketErrorCode.MISSING_EXPIRATION_PARAMS,
      'payment has ticket params but no expiration params',
    );
  }
  return {
    params: payment.ticketParams,
    expirationParams: payment.expirationParams,
    sender: payment.sender,
    pricePerPixel: pricePerPixel(payment.expectedPrice),
    senderParams: payment.ticketSenderParams,
  };
}

/**
 * The Payment B sends for a batch. `expectedPrice` must be the exact PriceInfo that came with
 * the params: O binds the price into recipientRand, so any other value fails every ticket.
 * O's nested expiration params are not echoed (B never fills that field).
 */
export function paymentFromTicketBatch(batch: TicketBatch, expectedPrice: PriceInfo): Payment {
  if (!pricePerPixel(expectedPrice).equals(batch.pricePerPixel)) {
    throw new TicketError(TicketErrorCode.INVALID_PRICE, "expected price differs from the batch's price");
  }
  const { recipient, faceValue, winProb, recipientRandHash, seed, expirationBlock } = batch.params;
  return {
    ticketParams: { recipient, faceValue, winProb, recipientRandHash, seed, expirationBlock },
    sender: batch.sender,
    expirationParams: batch.expirationParams,
    ticketSenderParams: [...batch.senderParams],
    expectedPrice,
  };
}
