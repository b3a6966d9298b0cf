import { describe, expect, it } from 'vitest';
import {
  TicketErrorCode,
  paymentFromTicketBatch,
  pricePerPixel,
  ticketBatchFromPayment,
  type PriceInfo,
} from '#app/ticket';
import { validBatch } from '../test/fixtures.js';

const price: PriceInfo = { pricePerUnit: 6n, pixelsPerUnit: 14n, capability: 0, constraint: '' };

describe('payments (§11.1, §11.2)', () => {
  it('reduces the price per pixel like big.NewRat', () => {
    expect(pricePerPixel(price).toString()).toBe('3/7');
    expect(pricePerPixel({ ...price, pricePerUnit: 0n }).toString()).toBe('0/1');
  });

  it.each([
    ['a missing price', undefined, 'expected price is nil'],
    ['zero pixels per unit', { ...price, pixelsPerUnit: 0n }, 'pixels per unit is 0'],
    ['a negative price', { ...price, pricePerUnit: -6n }, 'price must not be negative'],
  ])('refuses %s', (_name, p, message) => {
    expect(() => pricePerPixel(p)).toThrow(
      expect.objectContaining({ code: TicketErrorCode.INVALID_PRICE, message }),
    );
  });

  it('turns a batch into the Payment B sends and back', () => {
    const { batch } = validBatch();
    const payment = paymentFromTicketBatch(batch, price);
    expect(payment.ticketParams?.expirationParams).toBeUndefined();
    expect(payment.expectedPrice).toBe(price);
    const back = ticketBatchFromPayment(payment);
    expect(back?.pricePerPixel.equals(batch.pricePerPixel)).toBe(true);
    expect(back?.senderParams).toEqual(batch.senderParams);
    expect(back?.expirationParams).toEqual(batch.expirationParams);
  });

  it('refuses to pair a batch with a price other than the one its params were issued for', () => {
    const { batch } = validBatch();
    expect(() => paymentFromTicketBatch(batch, { ...price, pricePerUnit: 7n })).toThrow(
      expect.objectContaining({ code: TicketErrorCode.INVALID_PRICE }),
    );
  });

  it('has no batch for a payment without ticket params, and refuses incomplete ones', () => {
    const { batch } = validBatch();
    const payment = paymentFromTicketBatch(batch, price);
    expect(
      ticketBatchFromPayment({ sender: batch.sender, ticketSenderParams: [], expectedPrice: price }),
    ).toBeUndefined();
    expect(() => ticketBatchFromPayment({ ...payment, sender: undefined })).toThrow(
      expect.objectContaining({
        code: TicketErrorCode.MISSING_SENDER,
        message: 'Could not find Sender for payment',
      }),
    );
    expect(() => ticketBatchFromPayment({ ...payment, expirationParams: undefined })).toThrow(
      expect.objectContaining({ code: TicketErrorCode.MISSING_EXPIRATION_PARAMS }),
    );
    expect(() => ticketBatchFromPayment({ ...payment, expectedPrice: undefined })).toThrow(
      expect.objectContaining({ code: TicketErrorCode.INVALID_PRICE }),
    );
  });
});
