import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ticketBrokerAt } from '#app/chain';
import { paymentCodec, ticketParamsCodec, type PaymentMessage } from '#app/proto';
import { Rational, bytesToHex, createTicketBatch, hexToBytes, ticketEV } from '#app/ticket';
import { paramsKey } from '../../../apps/recipient/src/nonce/redis-nonce-ledger.js';
import { type GetTicketParamsResponse } from '#app/clients';
import {
  ALWAYS_WIN,
  errorCodeOf,
  issue,
  paymentMessage,
  paymentOf,
  ratio,
  rrHashOf,
  signBatch,
  startHarness,
  type RecipientHarness,
  type RunningRecipient,
  type TestSender,
} from './recipient-fixture.js';

const EXPIRY_BLOCKS = 5;
const NONCE_CAP = 3;

describe('Recipient: every refused payment returns its code and changes nothing', () => {
  let h: RecipientHarness;
  let r: RunningRecipient;
  let sender: TestSender;
  let other: TestSender;
  let job = 0;

  beforeAll(async () => {
    // An unlock takes one round, so an unlocking sender is refused at once (§8.3).
    h = await startHarness('recipient-validation', { unlockPeriod: 1 });
    sender = await h.newSender();
    other = await h.newSender();
    r = await h.boot({
      ...ALWAYS_WIN,
      RECIPIENT_PARAMS_EXPIRY_BLOCKS: String(EXPIRY_BLOCKS),
      RECIPIENT_MAX_SENDER_NONCES: String(NONCE_CAP),
      RECIPIENT_MAX_TICKETS_PER_PAYMENT: '10',
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  interface State {
    balance: string;
    winners: number;
    nonces: number;
  }

  async function state(issued: GetTicketParamsResponse, jobId: string, who = sender): Promise<State> {
    const rrHash = rrHashOf(issued);
    const fields = await r.redis.hlen(paramsKey(who.hex, rrHash));
    return {
      balance: ratio((await r.client.balance({ sender: who.address, jobId })).balance),
      winners: await r.countWinners(rrHash),
      // The hash also holds the params' price and secret id.
      nonces: Math.max(0, fields - 2),
    };
  }

  /**
   * Sends `payment`, expects the whole call to fail with `code`, checks that nothing changed, then
   * shows the nonce was not consumed: the honest ticket with the same nonce is still accepted.
   */
  async function expectRefused(
    issued: GetTicketParamsResponse,
    payment: PaymentMessage,
    code: string,
    honest: { accepted: boolean } = { accepted: true },
  ): Promise<void> {
    const jobId = `job-${++job}`;
    const before = await state(issued, jobId);
    expect(await errorCodeOf(r.client.processPayment({ payment, jobId }))).toBe(code);
    expect(await state(issued, jobId)).toEqual(before);
    if (honest.accepted) {
      const res = await r.client.processPayment({
        payment: paymentMessage(issued, signBatch(issued, sender, [1])),
        jobId,
      });
      expect(res.tickets[0]).toMatchObject({ accepted: true, errorCode: '' });
    }
  }

  it('INVALID_RECIPIENT: params naming another recipient', async () => {
    const issued = await issue(r, sender);
    const forged = structuredClone(issued);
    forged.ticketParams.recipient = other.address;
    await expectRefused(issued, paymentMessage(forged, signBatch(forged, sender, [1])), 'INVALID_RECIPIENT');
  });

  it('INVALID_SENDER: the zero sender', async () => {
    const issued = await issue(r, sender);
    const payment = paymentMessage(issued, signBatch(issued, sender, [1]));
    payment.sender = new Uint8Array(20);
    await expectRefused(issued, payment, 'INVALID_SENDER');
  });

  it('INVALID_RECIPIENT_RAND: a tampered face value, or a price other than the one issued', async () => {
    const issued = await issue(r, sender);
    const forged = structuredClone(issued);
    const params = ticketParamsCodec.fromMessage(issued.ticketParams);
    forged.ticketParams = ticketParamsCodec.toMessage({ ...params, faceValue: params.faceValue * 2n });
    await expectRefused(
      issued,
      paymentMessage(forged, signBatch(forged, sender, [1])),
      'INVALID_RECIPIENT_RAND',
    );

    const fresh = await issue(r, sender);
    const repriced = structuredClone(fresh);
    repriced.priceInfo = { pricePerUnit: '1201', pixelsPerUnit: '1' };
    await expectRefused(
      fresh,
      paymentMessage(repriced, signBatch(repriced, sender, [1])),
      'INVALID_RECIPIENT_RAND',
    );
  });

  it('INVALID_SIGNATURE: a ticket signed by another key is refused alone, the rest of the payment is credited', async () => {
    const issued = await issue(r, sender);
    const jobId = `job-${++job}`;
    const params = ticketParamsCodec.fromMessage(issued.ticketParams);
    const good = signBatch(issued, sender, [1, 3]);
    const bad = createTicketBatch({ ...good, nonces: [2], privateKey: other.key });
    const payment = paymentCodec.toMessage({
      ...paymentOf(issued, good),
      ticketSenderParams: [good.senderParams[0], bad.senderParams[0], good.senderParams[1]],
    });
    const res = await r.client.processPayment({ payment, jobId });
    expect(res.tickets.map((t) => [t.senderNonce, t.accepted, t.errorCode])).toEqual([
      [1, true, ''],
      [2, false, 'INVALID_SIGNATURE'],
      [3, true, ''],
    ]);
    expect(await r.countWinners(bytesToHex(params.recipientRandHash))).toBe(2);
    // The bad ticket's nonce was not consumed.
    const retry = await r.client.processPayment({
      payment: paymentMessage(issued, signBatch(issued, sender, [2])),
      jobId,
    });
    expect(retry.tickets[0]).toMatchObject({ accepted: true });
  });

  it('PARAMS_EXPIRED: params past their expiration block, checked after the commitment', async () => {
    const issued = await issue(r, sender);
    const payment = paymentMessage(issued, signBatch(issued, sender, [1]));
    const forged = structuredClone(issued);
    const params = ticketParamsCodec.fromMessage(issued.ticketParams);
    forged.ticketParams = ticketParamsCodec.toMessage({ ...params, faceValue: params.faceValue + 1n });
    await h.mine(EXPIRY_BLOCKS);
    await r.refreshChain();
    await expectRefused(issued, payment, 'PARAMS_EXPIRED', { accepted: false });
    // Tampered and expired: the commitment fails first, as in go-livepeer's order.
    expect(
      await errorCodeOf(
        r.client.processPayment({
          payment: paymentMessage(forged, signBatch(forged, sender, [1])),
          jobId: 'x',
        }),
      ),
    ).toBe('INVALID_RECIPIENT_RAND');
  });

  it('PRICE_MISMATCH: the price on record for the params differs from the payment’s', async () => {
    const issued = await issue(r, sender);
    const rrHash = rrHashOf(issued);
    await r.redis.hset(paramsKey(sender.hex, rrHash), 'price', '1/1');
    await expectRefused(issued, paymentMessage(issued, signBatch(issued, sender, [1])), 'PRICE_MISMATCH', {
      accepted: false,
    });
  });

  it('PARAMS_UNKNOWN: params whose record is gone (Redis lost) are refused, never replayable', async () => {
    const issued = await issue(r, sender);
    const payment = paymentMessage(issued, signBatch(issued, sender, [1]));
    await r.client.processPayment({ payment, jobId: 'job-lost' });
    const rrHash = rrHashOf(issued);
    await r.redis.del(paramsKey(sender.hex, rrHash));
    const before = ratio((await r.client.balance({ sender: sender.address, jobId: 'job-lost' })).balance);
    expect(await errorCodeOf(r.client.processPayment({ payment, jobId: 'job-lost' }))).toBe('PARAMS_UNKNOWN');
    expect(ratio((await r.client.balance({ sender: sender.address, jobId: 'job-lost' })).balance)).toBe(
      before,
    );
  });

  it('NONCE_ALREADY_SEEN and TOO_MANY_NONCES: replays and nonces past the cap are neither credited nor stored', async () => {
    const issued = await issue(r, sender);
    const rrHash = rrHashOf(issued);
    const jobId = `job-${++job}`;
    const first = await r.client.processPayment({
      payment: paymentMessage(issued, signBatch(issued, sender, [10, 11])),
      jobId,
    });
    expect(first.acceptedCount).toBe(2);
    const res = await r.client.processPayment({
      payment: paymentMessage(issued, signBatch(issued, sender, [11, 12, 13, 12])),
      jobId,
    });
    expect(res.tickets.map((t) => [t.senderNonce, t.errorCode])).toEqual([
      [11, 'NONCE_ALREADY_SEEN'],
      [12, ''],
      [13, 'TOO_MANY_NONCES'],
      [12, 'NONCE_ALREADY_SEEN'],
    ]);
    expect(res.acceptedCount).toBe(1);
    expect(await r.countWinners(rrHash)).toBe(3);
    // Three tickets of one set of params accepted in all: the balance is exactly 3 EV.
    const params = ticketParamsCodec.fromMessage(issued.ticketParams);
    const ev = ticketEV(params.faceValue, params.winProb);
    expect(ratio(res.balance)).toBe(ev.mul(Rational.of(3n)).toString());
  });

  it('SENDER_UNLOCKING: a sender whose deposit unlocks within a round', async () => {
    const leaving = await h.newSender();
    const issued = await issue(r, leaving);
    const payment = paymentMessage(issued, signBatch(issued, leaving, [1]));
    await (await ticketBrokerAt(h.protocol.addresses.ticketBroker, leaving.wallet).unlock()).wait();
    await r.refreshChain();
    const jobId = `job-${++job}`;
    const before = await state(issued, jobId, leaving);
    expect(await errorCodeOf(r.client.processPayment({ payment, jobId }))).toBe('SENDER_UNLOCKING');
    expect(await state(issued, jobId, leaving)).toEqual(before);
    // A wrong price comes first in the order, unlocking sender or not; unknown params too.
    const rrHash = rrHashOf(issued);
    await r.redis.hset(paramsKey(leaving.hex, rrHash), 'price', '1/1');
    expect(await errorCodeOf(r.client.processPayment({ payment, jobId }))).toBe('PRICE_MISMATCH');
    await r.redis.del(paramsKey(leaving.hex, rrHash));
    expect(await errorCodeOf(r.client.processPayment({ payment, jobId }))).toBe('PARAMS_UNKNOWN');
  });

  it('malformed payments: missing sender, missing expiration params, bad price, too many tickets', async () => {
    const issued = await issue(r, sender);
    const good = paymentMessage(issued, signBatch(issued, sender, [1]));
    const cases: [PaymentMessage, string][] = [
      [{ ...good, sender: undefined }, 'MISSING_SENDER'],
      [{ ...good, expirationParams: null }, 'MISSING_EXPIRATION_PARAMS'],
      [{ ...good, expectedPrice: { pricePerUnit: '1', pixelsPerUnit: '0' } }, 'INVALID_PRICE'],
      [{ ...good, expectedPrice: { pricePerUnit: '-1', pixelsPerUnit: '1' } }, 'INVALID_PRICE'],
      [
        paymentMessage(
          issued,
          signBatch(
            issued,
            sender,
            Array.from({ length: 11 }, (_, i) => i + 1),
          ),
        ),
        'TOO_MANY_TICKETS',
      ],
    ];
    for (const [payment, code] of cases) await expectRefused(issued, payment, code, { accepted: false });
    const res = await r.client.processPayment({ payment: good, jobId: `job-${++job}` });
    expect(res.acceptedCount).toBe(1);
  });

  it('keeps the signature check per ticket when every signature is bad (no batch-level error hides it)', async () => {
    const issued = await issue(r, sender);
    const forgedBy = createTicketBatch({
      ...signBatch(issued, sender, [1]),
      nonces: [1, 2],
      privateKey: other.key,
    });
    const payment = paymentCodec.toMessage({
      ...paymentOf(issued, forgedBy),
      sender: hexToBytes(sender.hex, 's', 20),
    });
    const res = await r.client.processPayment({ payment, jobId: `job-${++job}` });
    expect(res.tickets.map((t) => t.errorCode)).toEqual(['INVALID_SIGNATURE', 'INVALID_SIGNATURE']);
    expect(res.acceptedCount).toBe(0);
  });
});
