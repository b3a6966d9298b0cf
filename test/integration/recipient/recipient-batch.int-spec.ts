import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WinningTicketStatus } from '#app/database';
import { ticketParamsCodec } from '#app/proto';
import { Rational, bytesToHex } from '#app/ticket';
import { legacyParamsKey, paramsKey } from '../../../apps/recipient/src/nonce/redis-nonce-ledger.js';
import {
  MAX_PAYMENTS_PER_BATCH,
  RecipientCallError,
  RecipientClient,
  type GetTicketParamsResponse,
  type PaymentResultMessage,
  type ProcessPaymentRequest,
} from '#app/clients';
import {
  ALWAYS_WIN_UNRECONCILED,
  errorCodeOf,
  evOf,
  issue,
  paymentMessage,
  ratio,
  rrHashOf,
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

describe('Recipient: ProcessPayments (batches) and the coalescing client', () => {
  let h: RecipientHarness;
  let sender: TestSender;
  let other: TestSender;
  let r: RunningRecipient;
  /** One ProcessPayment per call: the path every batch item must match. */
  let plain: RecipientClient;

  beforeAll(async () => {
    h = await startHarness('recipient-batch');
    sender = await h.newSender();
    other = await h.newSender();
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

  it("reports the recovery helper thread's jobs on /metrics (read when scraped)", async () => {
    // The helper runs where there is a second core (RECIPIENT_RECOVERY_HELPER defaults to true).
    if (availableParallelism() < 2) return;
    const issued = await issue(r, sender);
    const payments = Array.from({ length: 8 }, (_, i) => ({
      payment: paymentMessage(issued, signBatch(issued, sender, [300 + i])),
      jobId: 'helper-metrics',
    }));
    const { results } = await r.client.processPayments({ payments });
    expect(results.every((result) => result.response?.acceptedCount === 1)).toBe(true);
    const metrics = await (await fetch(`${await r.app.getUrl()}/metrics`)).text();
    for (const outcome of ['helped', 'redone'])
      expect(metrics).toMatch(
        new RegExp(`^recipient_recovery_helper_jobs_total\\{outcome="${outcome}"[^}]*\\} \\d+$`, 'm'),
      );
  });

  describe('payments of one batch on the same params', () => {
    const CAP = 5;
    let capped: RunningRecipient;
    let cappedPlain: RecipientClient;
    beforeAll(async () => {
      capped = await h.boot({ RECIPIENT_MAX_SENDER_NONCES: String(CAP) });
      cappedPlain = new RecipientClient(capped.grpcUrl, 10_000, { coalesce: false });
    });
    afterAll(() => cappedPlain?.close());

    /**
     * A batch on `issued`: nonces named twice (across and within payments), the nonce cap, refusals
     * before the nonces, a busy balance, a payment without tickets.
     */
    function scenario(issued: GetTicketParamsResponse, prefix: string): ProcessPaymentRequest[] {
      const pay = (nonces: number[], job: string) => ({
        payment: paymentMessage(issued, signBatch(issued, sender, nonces)),
        jobId: `${prefix}-${job}`,
      });
      const params = ticketParamsCodec.fromMessage(issued.ticketParams);
      const tampered = structuredClone(issued);
      tampered.ticketParams = ticketParamsCodec.toMessage({ ...params, faceValue: params.faceValue * 2n });
      const forged = pay([5], 'd');
      forged.payment.ticketSenderParams = signBatch(issued, other, [5]).senderParams.map((t) => ({
        senderNonce: t.senderNonce,
        sig: t.sig,
      }));
      return [
        pay([1, 2], 'a'),
        // Nonce 2 again: the earlier payment of the batch has it.
        pay([2, 3], 'b'),
        // Refused before its nonces (the commitment): records nothing, the others go on.
        { payment: paymentMessage(tampered, signBatch(tampered, sender, [4])), jobId: `${prefix}-c` },
        // The same job as the first (its balance is busy), and a nonce twice within the payment.
        pay([4, 4], 'a'),
        // Every signature bad: no nonce to record.
        forged,
        // Reaches the cap: 5 is the fifth nonce, 6 one too many.
        pay([5, 6], 'e'),
        pay([1], 'f'),
        // No tickets: only the balance is read.
        { payment: { ...pay([8], 'g').payment, ticketSenderParams: [] }, jobId: `${prefix}-g` },
        pay([7], 'a'),
      ];
    }

    /** What a payment came to, less what differs between two sets of params (ticket hashes). */
    function summary(result: PaymentResultMessage): unknown {
      if (!result.response) return refusalOf(result);
      const { tickets, credited, acceptedCount, winningCount } = result.response;
      return {
        tickets: tickets.map((t) => [t.senderNonce, t.accepted, t.errorCode, t.errorMessage]),
        credited: ratio(credited),
        acceptedCount,
        winningCount,
      };
    }

    async function balances(prefix: string): Promise<string[]> {
      return Promise.all(
        ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map(async (job) =>
          ratio((await capped.client.balance({ sender: sender.address, jobId: `${prefix}-${job}` })).balance),
        ),
      );
    }

    it('gives each payment exactly what it gets alone, in batch order', async () => {
      // Alone: one ProcessPayment after the other, on their own params.
      const aloneParams = await issue(capped, sender);
      const alone: PaymentResultMessage[] = [];
      for (const request of scenario(aloneParams, 'alone')) {
        alone.push(
          await cappedPlain.processPayment(request).then(
            (response) => ({ response }),
            (err: RecipientCallError) => ({
              error: { status: err.status, code: err.errorCode, domain: '', message: err.message },
            }),
          ),
        );
      }

      const batchParams = await issue(capped, sender);
      const { results } = await capped.client.processPayments({ payments: scenario(batchParams, 'grouped') });

      expect(results.map(summary)).toEqual(alone.map(summary));
      expect(await balances('grouped')).toEqual(await balances('alone'));
      // The outcomes the scenario is about, spelled out.
      expect(
        results.map((x) => x.response?.tickets.map((t) => t.errorCode || 'ok') ?? x.error!.code),
      ).toEqual([
        ['ok', 'ok'],
        ['NONCE_ALREADY_SEEN', 'ok'],
        'INVALID_RECIPIENT_RAND',
        ['ok', 'NONCE_ALREADY_SEEN'],
        ['INVALID_SIGNATURE'],
        ['ok', 'TOO_MANY_NONCES'],
        ['NONCE_ALREADY_SEEN'],
        [],
        ['TOO_MANY_NONCES'],
      ]);
    });

    it('refuses every payment of the batch at a price the params were not issued for, recording nothing', async () => {
      const issued = await issue(capped, sender);
      const rrHash = rrHashOf(issued);
      const payments = [[1], [2, 3]].map((nonces, i) => ({
        payment: paymentMessage(issued, signBatch(issued, sender, nonces)),
        jobId: `mismatch-${i}`,
      }));
      const issuedPrice = await capped.redis.hget(paramsKey(sender.hex, rrHash), 'price');
      await capped.redis.hset(paramsKey(sender.hex, rrHash), 'price', '1/1');
      const refused = await capped.client.processPayments({ payments });
      expect(refused.results.map((x) => x.error?.code)).toEqual(['PRICE_MISMATCH', 'PRICE_MISMATCH']);
      for (const [i, result] of refused.results.entries()) {
        expect(await lone(cappedPlain, payments[i])).toEqual(refusalOf(result));
      }
      await capped.redis.hset(paramsKey(sender.hex, rrHash), 'price', issuedPrice!);
      const accepted = await capped.client.processPayments({ payments });
      expect(accepted.results.map((x) => x.response?.acceptedCount)).toEqual([1, 2]);
    });

    it('records legacy params for the whole batch in the same order', async () => {
      const issued = await issue(capped, sender);
      const rrHash = rrHashOf(issued);
      await capped.redis.rename(paramsKey(sender.hex, rrHash), legacyParamsKey(rrHash));
      const { results } = await capped.client.processPayments({
        payments: [[1], [1, 2]].map((nonces, i) => ({
          payment: paymentMessage(issued, signBatch(issued, sender, nonces)),
          jobId: `legacy-${i}`,
        })),
      });
      expect(results.map((x) => x.response!.tickets.map((t) => t.errorCode || 'ok'))).toEqual([
        ['ok'],
        ['NONCE_ALREADY_SEEN', 'ok'],
      ]);
      // Price, secret id and the two nonces.
      expect(await capped.redis.hlen(legacyParamsKey(rrHash))).toBe(4);
    });

    it('two replicas given the same batches at once accept each ticket exactly once', async () => {
      const twin = await h.boot({ RECIPIENT_MAX_SENDER_NONCES: String(CAP) });
      try {
        const issued = await issue(capped, sender);
        const payments = [[1, 2], [2, 3], [3, 4], [1]].map((nonces) => ({
          payment: paymentMessage(issued, signBatch(issued, sender, nonces)),
          jobId: 'twins',
        }));
        const answers = await Promise.all(
          [capped, twin, capped, twin].map((x) => x.client.processPayments({ payments })),
        );
        const accepted = answers.flatMap((a) =>
          a.results.flatMap((x) => x.response!.tickets.filter((t) => t.accepted).map((t) => t.senderNonce)),
        );
        expect(accepted.sort()).toEqual([1, 2, 3, 4]);
        const { balance } = await twin.client.balance({ sender: sender.address, jobId: 'twins' });
        expect(ratio(balance)).toBe(evOf(issued).mul(Rational.of(4n)).toString());
      } finally {
        await twin.close();
      }
    });
  });

  describe('with winning tickets', () => {
    let w: RunningRecipient;
    beforeAll(async () => {
      w = await h.boot(ALWAYS_WIN_UNRECONCILED);
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
