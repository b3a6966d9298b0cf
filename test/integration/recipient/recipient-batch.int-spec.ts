import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WinningTicketStatus } from '#app/database';
import { ticketParamsCodec } from '#app/proto';
import { Rational, bytesToHex, ticketEV } from '#app/ticket';
import {
  MAX_PAYMENTS_PER_BATCH,
  RecipientCallError,
  RecipientClient,
  type GetTicketParamsResponse,
  type PaymentResultMessage,
  type ProcessPaymentRequest,
} from '#app/clients';
import {
  ALWAYS_WIN,
  errorCodeOf,
  issue,
  paymentMessage,
  ratio,
  signBatch,
  startHarness,
  type RecipientHarness,
  type RunningRecipient,
  type TestSender,
} from './recipient-fixture.js';

interface Refusal {
  status: number;
  code: string;
  message: string;
}

/** How a lone ProcessPayment of `request` fails now ('ok' when it does not). */
async function lone(client: RecipientClient, request: ProcessPaymentRequest): Promise<Refusal | 'ok'> {
  try {
    await client.processPayment(request);
    return 'ok';
  } catch (err) {
    if (!(err instanceof RecipientCallError)) throw err;
    return { status: err.status, code: err.errorCode, message: err.message };
  }
}

/** A batch item's failure in the same shape. */
function refusalOf(result: PaymentResultMessage): Refusal {
  const { status, code, message } = result.error!;
  return { status, code, message };
}

function evOf(issued: GetTicketParamsResponse): Rational {
  const params = ticketParamsCodec.fromMessage(issued.ticketParams);
  return ticketEV(params.faceValue, params.winProb);
}

describe('Recipient: ProcessPayments (batches) and the coalescing client', () => {
  let h: RecipientHarness;
  let sender: TestSender;
  let r: RunningRecipient;
  /** One ProcessPayment per call: the path every batch item must match. */
  let plain: RecipientClient;

  beforeAll(async () => {
    h = await startHarness('recipient-batch');
    sender = await h.newSender();
    r = await h.boot();
    plain = new RecipientClient(r.grpcUrl, 10_000, { coalesce: false });
  });
  afterAll(async () => {
    plain?.close();
    await h?.stop();
  });

  /** Bad payments of every kind a whole call can fail with, each built from fresh tickets. */
  function badPayments(issued: GetTicketParamsResponse, nonce: number): ProcessPaymentRequest[] {
    const good = paymentMessage(issued, signBatch(issued, sender, [nonce]));
    return [
      // Another price than the params were issued for.
      {
        payment: { ...good, expectedPrice: { pricePerUnit: '1300', pixelsPerUnit: '1' } },
        jobId: 'bad-price',
      },
      // Params this recipient never issued.
      {
        payment: {
          ...good,
          ticketParams: { ...good.ticketParams!, recipientRandHash: new Uint8Array(32).fill(7) },
        },
        jobId: 'bad-params',
      },
      { paymentHeader: 'not base64!', jobId: 'bad-header' },
      { payment: good, jobId: 'has a space' },
      { jobId: 'no-payment' },
    ];
  }

  it('answers each payment of a batch as ProcessPayment would: bad ones change nothing, good ones are credited exactly', async () => {
    const issued = await issue(r, sender);
    const ev = evOf(issued);
    const goodA = { payment: paymentMessage(issued, signBatch(issued, sender, [1, 2])), jobId: 'batch-a' };
    const goodB = { payment: paymentMessage(issued, signBatch(issued, sender, [3])), jobId: 'batch-b' };
    const bad = badPayments(issued, 10);
    const batch = [bad[0], goodA, bad[1], bad[2], goodB, bad[3], bad[4]];

    const { results } = await r.client.processPayments({ payments: batch });

    expect(results).toHaveLength(batch.length);
    const [a, b] = [results[1].response!, results[4].response!];
    expect(a.tickets.map((t) => [t.senderNonce, t.accepted])).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(ratio(a.credited)).toBe(ev.mul(Rational.of(2n)).toString());
    expect(ratio(a.balance)).toBe(ev.mul(Rational.of(2n)).toString());
    expect(ratio(b.balance)).toBe(ev.toString());
    // Each bad payment failed alone, with what a lone ProcessPayment of it answers now: it
    // changed nothing, so sending it again alone meets the same refusal.
    for (const i of [0, 2, 3, 5, 6]) {
      expect(results[i].response).toBeFalsy();
      expect(results[i].error!.code).not.toBe('');
      expect(await lone(plain, batch[i])).toEqual(refusalOf(results[i]));
    }
    expect(results.map((x) => x.error?.code ?? 'ok')).toEqual([
      expect.any(String),
      'ok',
      expect.any(String),
      'INVALID_HEADER',
      'ok',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
    ]);
    // The refused tickets were not recorded: the same ticket at the right price is accepted.
    const retried = await plain.processPayment({
      payment: paymentMessage(issued, signBatch(issued, sender, [10])),
      jobId: 'bad-price',
    });
    expect(retried.acceptedCount).toBe(1);
    // Balances hold exactly the good payments' credit.
    expect(ratio((await r.client.balance({ sender: sender.address, jobId: 'batch-a' })).balance)).toBe(
      ev.mul(Rational.of(2n)).toString(),
    );
    // A replay in a later batch is refused per ticket, as a lone replay is, and credits nothing.
    const replay = await r.client.processPayments({ payments: [goodA, goodB] });
    expect(replay.results.map((x) => x.response!.tickets.map((t) => t.errorCode))).toEqual([
      ['NONCE_ALREADY_SEEN', 'NONCE_ALREADY_SEEN'],
      ['NONCE_ALREADY_SEEN'],
    ]);
    expect(ratio(replay.results[0].response!.balance)).toBe(ev.mul(Rational.of(2n)).toString());
  });

  it('refuses an empty or over-long batch whole with INVALID_REQUEST, crediting nothing', async () => {
    expect(await errorCodeOf(r.client.processPayments({ payments: [] }))).toBe('INVALID_REQUEST');
    const issued = await issue(r, sender);
    const payments = Array.from({ length: MAX_PAYMENTS_PER_BATCH + 1 }, (_, i) => ({
      payment: paymentMessage(issued, signBatch(issued, sender, [i + 1])),
      jobId: 'batch-long',
    }));
    expect(await errorCodeOf(r.client.processPayments({ payments }))).toBe('INVALID_REQUEST');
    expect((await r.client.balance({ sender: sender.address, jobId: 'batch-long' })).balance.num).toBe('0');
    // The longest batch allowed goes through, every payment credited.
    const ok = await r.client.processPayments({ payments: payments.slice(1) });
    expect(ok.results.every((x) => x.response?.acceptedCount === 1)).toBe(true);
    const balance = await r.client.balance({ sender: sender.address, jobId: 'batch-long' });
    expect(ratio(balance.balance)).toBe(
      evOf(issued)
        .mul(Rational.of(BigInt(MAX_PAYMENTS_PER_BATCH)))
        .toString(),
    );
  });

  it('coalesces concurrent processPayment calls and still gives each caller its own result or error', async () => {
    const issued = await issue(r, sender);
    const ev = evOf(issued);
    const goods = Array.from({ length: 12 }, (_, i) => ({
      payment: paymentMessage(issued, signBatch(issued, sender, [100 + i])),
      jobId: `coalesced-${i % 3}`,
    }));
    const bad = badPayments(issued, 200);
    const requests = [...goods.slice(0, 6), ...bad, ...goods.slice(6)];
    const before = await batchCalls(r);

    const settled = await Promise.allSettled(requests.map((q) => r.client.processPayment(q)));

    expect(await batchCalls(r)).toBeGreaterThan(before);
    for (const [i, s] of settled.entries()) {
      const expected = goods.includes(requests[i] as (typeof goods)[number])
        ? 'ok'
        : await lone(plain, requests[i]);
      if (s.status === 'fulfilled') {
        expect(expected).toBe('ok');
        expect(s.value.tickets.map((t) => [t.senderNonce, t.accepted])).toEqual([
          [requests[i].payment!.ticketSenderParams![0].senderNonce, true],
        ]);
        expect(ratio(s.value.credited)).toBe(ev.toString());
      } else {
        const err = s.reason as RecipientCallError;
        expect(err).toBeInstanceOf(RecipientCallError);
        expect({ status: err.status, code: err.errorCode, message: err.message }).toEqual(expected);
      }
    }
    for (let job = 0; job < 3; job++) {
      const { balance } = await r.client.balance({ sender: sender.address, jobId: `coalesced-${job}` });
      expect(ratio(balance)).toBe(ev.mul(Rational.of(4n)).toString());
    }
  });

  describe('with winning tickets', () => {
    let w: RunningRecipient;
    beforeAll(async () => {
      w = await h.boot({ ...ALWAYS_WIN, RECIPIENT_RECONCILE_INTERVAL_SECONDS: '3600' });
    });

    it('has every winner of the batch in Postgres when it answers', async () => {
      const issued = await issue(w, sender);
      const { results } = await w.client.processPayments({
        payments: [
          { payment: paymentMessage(issued, signBatch(issued, sender, [1, 2])), jobId: 'win-a' },
          { jobId: 'no-payment' },
          { payment: paymentMessage(issued, signBatch(issued, sender, [3])), jobId: 'win-b' },
        ],
      });
      expect(results.map((x) => x.response?.winningCount ?? x.error!.code)).toEqual([
        2,
        'INVALID_REQUEST',
        1,
      ]);
      const hashes = [results[0], results[2]].flatMap((x) =>
        x.response!.tickets.map((t) => bytesToHex(t.ticketHash)),
      );
      for (const hash of hashes) {
        expect((await w.tickets.findByHash(hash))?.status).toBe(WinningTicketStatus.QUEUED);
      }
    });
  });
});

/** ProcessPayments calls the Recipient has served, from its /metrics. */
async function batchCalls(r: RunningRecipient): Promise<number> {
  const metrics = await (await fetch(`${await r.app.getUrl()}/metrics`)).text();
  return Number(/^recipient_payments_per_batch_count\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
}
