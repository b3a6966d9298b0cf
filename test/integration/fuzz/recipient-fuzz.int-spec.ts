import fc from 'fast-check';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { grpcHealthCheck } from '#app/testing';
import { bytesToHex, Rational } from '#app/ticket';
import { balanceKey as recipientBalanceKey } from '../../../apps/recipient/src/balance/balances.service.js';
import {
  issue,
  paymentMessage,
  signBatch,
  startHarness,
  type RecipientHarness,
  type RunningRecipient,
  type TestSender,
} from '../recipient/recipient-fixture.js';
import {
  OK,
  RESOURCE_EXHAUSTED,
  checkOutcome,
  expectSameSnapshot,
  redisSnapshot,
  Tally,
} from './fuzz-kit.js';
import { decode, encode, RawGrpc } from './raw-grpc.js';
import { runAll } from './run-all.js';

const SVC = '/ticketpay.recipient.v1.Recipient';
const PP = `${SVC}/ProcessPayment`;
const PPS = `${SVC}/ProcessPayments`;
const GTP = `${SVC}/GetTicketParams`;
const DEBIT = `${SVC}/Debit`;
const BALANCE = `${SVC}/Balance`;
const SEED = 0x7c4e;
const JOB = 'fuzz-job';
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b));
const int64 = fc.bigInt(-(1n << 63n), (1n << 63n) - 1n).map(String);
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** A signature whose s is replaced by n - s (and v flipped): valid math, non-canonical form. */
function malleate(raw: Uint8Array): Buffer {
  const sig = Buffer.from(raw);
  if (sig.length !== 65) return sig;
  const s = BigInt(`0x${sig.subarray(32, 64).toString('hex')}`);
  const out = Buffer.from(sig);
  Buffer.from((N - s).toString(16).padStart(64, '0'), 'hex').copy(out, 32);
  out[64] = out[64] === 27 ? 28 : out[64] === 28 ? 27 : out[64] ^ 1;
  return out;
}

type Msg = Record<string, unknown>;

/** Decimal strings an attacker would put in an amount: negative, overflowing, not decimal at all. */
const digits = fc.oneof(
  fc.bigInt(-(1n << 600n), 1n << 600n).map(String),
  fc.bigInt(0n, 1000n).map(String),
  fc.string({ maxLength: 24 }),
  fc.constantFrom('', '0', '00', '-0', '-1', '1', '1e18', '0x10', ' 1', '1 ', '1.5', '+1', '１'),
  fc.constantFrom('9'.repeat(160), '9'.repeat(161), `${'0'.repeat(200)}1`),
);

/** The exact amount the service reads from an amount it accepted (den defaults to 1). */
const amountOf = (a: { num?: string; den?: string } | undefined) =>
  Rational.of(BigInt(a?.num ?? ''), BigInt(a?.den || '1'));

/** A stored balance (`num/den`), zero when absent. */
const storedBalance = (raw: string | undefined) => {
  if (raw === undefined) return Rational.ZERO;
  const [num, den] = raw.split('/');
  return Rational.of(BigInt(num), BigInt(den));
};

/** One way to break a valid payment, as a function of the valid one. */
const paymentMutation: fc.Arbitrary<(p: Msg) => Msg> = fc.oneof(
  bytes(64).map((b) => (p: Msg) => ({ ...p, sender: b })),
  fc
    .constantFrom('recipient', 'faceValue', 'winProb', 'recipientRandHash', 'seed', 'expirationBlock')
    .chain((f) =>
      bytes(70).map((b) => (p: Msg) => ({ ...p, ticketParams: { ...(p.ticketParams as Msg), [f]: b } })),
    ),
  fc.record({ creationRound: int64, creationRoundBlockHash: bytes(40) }).map((e) => (p: Msg) => ({
    ...p,
    expirationParams: e,
    ticketParams: { ...(p.ticketParams as Msg), expirationParams: e },
  })),
  fc
    .array(fc.record({ senderNonce: fc.nat(0xffffffff), sig: bytes(100) }), { maxLength: 40 })
    .map((sp) => (p: Msg) => ({ ...p, ticketSenderParams: sp })),
  fc.nat(0xffffffff).map((nonce) => (p: Msg) => ({
    ...p,
    ticketSenderParams: (p.ticketSenderParams as Msg[]).map((t) => ({ ...t, senderNonce: nonce })),
  })),
  fc.constant((p: Msg) => ({
    ...p,
    ticketSenderParams: (p.ticketSenderParams as Msg[]).map((t) => ({
      ...t,
      sig: malleate(t.sig as Uint8Array),
    })),
  })),
  fc.nat(64).map((i) => (p: Msg) => ({
    ...p,
    ticketSenderParams: (p.ticketSenderParams as Msg[]).map((t) => {
      const sig = Buffer.from(t.sig as Uint8Array);
      sig[i % sig.length] ^= 1;
      return { ...t, sig };
    }),
  })),
  fc.integer({ min: 0, max: 70 }).map((len) => (p: Msg) => ({
    ...p,
    ticketSenderParams: (p.ticketSenderParams as Msg[]).map((t) => ({
      ...t,
      sig: Buffer.from(t.sig as Uint8Array).subarray(0, len),
    })),
  })),
  fc
    .record({ pricePerUnit: int64, pixelsPerUnit: int64 })
    .map((price) => (p: Msg) => ({ ...p, expectedPrice: price })),
);

describe('fuzz: Recipient gRPC', () => {
  let h: RecipientHarness;
  let r: RunningRecipient;
  let sender: TestSender;
  let raw: RawGrpc;
  const tally = new Tally('recipient');

  /** Stored winning tickets this file could have caused: our recipient or our sender. */
  const winners = async () => {
    const rows = await r.app
      .get(DataSource)
      .query<{ n: string }[]>(
        'SELECT count(*)::text AS n FROM winning_ticket WHERE recipient = $1 OR sender = $2',
        [h.recipient, sender.hex],
      );
    return Number(rows[0].n);
  };

  beforeAll(async () => {
    h = await startHarness('fuzz-recipient');
    r = await h.boot({ RECIPIENT_MAX_TICKETS_PER_PAYMENT: '100' });
    sender = await h.newSender();
    raw = new RawGrpc(r.grpcUrl);
  }, 60_000);

  afterAll(async () => {
    raw?.close();
    await h?.stop();
  });

  it('malformed protobuf and hostile payments: coded errors, no state change', async () => {
    const issued = await issue(r, sender);
    const valid = paymentMessage(issued, signBatch(issued, sender, [1, 2, 3])) as unknown as Msg;
    // The control: the valid payment is accepted once, its replay is not credited again.
    const ok = await raw.call(
      PP,
      encode('ticketpay.recipient.v1.ProcessPaymentRequest', { payment: valid, jobId: JOB }),
    );
    expect(ok.code, ok.details).toBe(OK);
    const first = decode('ticketpay.recipient.v1.ProcessPaymentResponse', ok.response!);
    expect(first.acceptedCount).toBe(3);

    const rowsBefore = await winners();
    const redisBefore = await redisSnapshot(inject('redisUrl'), h.env.REDIS_PREFIX);

    const replay = await raw.call(
      PP,
      encode('ticketpay.recipient.v1.ProcessPaymentRequest', { payment: valid, jobId: JOB }),
    );
    checkOutcome(tally, 'ProcessPayment (replayed nonces)', replay);
    if (replay.code === OK) {
      expect(decode('ticketpay.recipient.v1.ProcessPaymentResponse', replay.response!).acceptedCount).toBe(0);
    }

    const rawCases = fc.sample(bytes(600), { numRuns: 2500, seed: SEED });
    await runAll(rawCases, async (b) => {
      checkOutcome(tally, 'ProcessPayment (raw bytes)', await raw.call(PP, b));
    });
    const structured = fc.sample(fc.array(paymentMutation, { minLength: 1, maxLength: 3 }), {
      numRuns: 2500,
      seed: SEED + 1,
    });
    let credited = 0;
    await runAll(structured, async (mutations) => {
      const payment = mutations.reduce((p, m) => m(p), valid);
      const out = await raw.call(
        PP,
        encode('ticketpay.recipient.v1.ProcessPaymentRequest', { payment, jobId: JOB }),
      );
      if (checkOutcome(tally, 'ProcessPayment (mutated payment)', out) && out.code === OK) {
        credited += Number(
          decode('ticketpay.recipient.v1.ProcessPaymentResponse', out.response!).acceptedCount,
        );
      }
    });
    const headers = fc.sample(
      fc.oneof(
        fc.string({ maxLength: 300 }),
        bytes(400).map((b) => b.toString('base64')),
      ),
      { numRuns: 800, seed: SEED + 2 },
    );
    await runAll(headers, async (paymentHeader) => {
      const out = await raw.call(
        PP,
        encode('ticketpay.recipient.v1.ProcessPaymentRequest', { paymentHeader, jobId: JOB }),
      );
      checkOutcome(tally, 'ProcessPayment (payment header)', out);
    });
    // ProcessPayments: raw bytes, and batches of hostile payments (the replayed valid one among
    // them): each item answered on its own, with a code, none credited.
    await runAll(fc.sample(bytes(600), { numRuns: 800, seed: SEED + 6 }), async (b) => {
      checkOutcome(tally, 'ProcessPayments (raw bytes)', await raw.call(PPS, b));
    });
    const batches = fc.sample(
      fc.array(fc.array(paymentMutation, { maxLength: 3 }), { minLength: 1, maxLength: 6 }),
      { numRuns: 500, seed: SEED + 7 },
    );
    await runAll(batches, async (items) => {
      const payments = items.map((mutations) => ({
        payment: mutations.reduce((p, m) => m(p), valid),
        jobId: JOB,
      }));
      const out = await raw.call(PPS, encode('ticketpay.recipient.v1.ProcessPaymentsRequest', { payments }));
      if (!checkOutcome(tally, 'ProcessPayments (hostile batch)', out) || out.code !== OK) return;
      const { results } = decode('ticketpay.recipient.v1.ProcessPaymentsResponse', out.response!) as {
        results: { response?: { acceptedCount: number }; error?: { code: string } }[];
      };
      expect(results).toHaveLength(payments.length);
      for (const result of results) {
        if (result.response) credited += Number(result.response.acceptedCount);
        else if (!result.error?.code)
          tally.fail('ProcessPayments (hostile batch)', 'an item failed without a code');
      }
    });
    // A batch far over the per-payment limit is refused as a whole.
    const huge = {
      ...valid,
      ticketSenderParams: Array.from({ length: 5000 }, (_, i) => ({
        senderNonce: i + 10,
        sig: Buffer.alloc(65, 1),
      })),
    };
    const big = await raw.call(
      PP,
      encode('ticketpay.recipient.v1.ProcessPaymentRequest', { payment: huge, jobId: JOB }),
    );
    checkOutcome(tally, 'ProcessPayment (huge batch)', big);
    expect(big.code).not.toBe(OK);
    // An oversized message (8 MiB) is refused by the transport, the server keeps serving.
    const oversized = await raw.call(
      PP,
      encode('ticketpay.recipient.v1.ProcessPaymentRequest', { jobId: 'x'.repeat(8 << 20) }),
    );
    tally.add('ProcessPayment (oversized message)');
    expect(oversized).toMatchObject({
      code: RESOURCE_EXHAUSTED,
      errorCode: 'MESSAGE_TOO_LARGE',
      errorDomain: 'proto',
    });

    expect(credited, 'a mutated payment was credited').toBe(0);
    expect(await winners()).toBe(rowsBefore);
    expectSameSnapshot(redisBefore, await redisSnapshot(inject('redisUrl'), h.env.REDIS_PREFIX));
    expect(await grpcHealthCheck(r.grpcUrl)).toBe('SERVING');
  }, 120_000);

  it('GetTicketParams: coded errors for bad senders and prices', async () => {
    const rawCases = fc.sample(bytes(200), { numRuns: 1500, seed: SEED + 3 });
    await runAll(rawCases, async (b) => {
      checkOutcome(tally, 'GetTicketParams (raw bytes)', await raw.call(GTP, b));
    });
    const req = fc.record({
      sender: fc.oneof(bytes(40), fc.constant(Buffer.from(sender.address))),
      price: fc.record({
        pricePerUnit: int64,
        pixelsPerUnit: int64,
        capability: fc.nat(),
        constraint: fc.string(),
      }),
    });
    await runAll(fc.sample(req, { numRuns: 1500, seed: SEED + 4 }), async (value) => {
      const out = await raw.call(GTP, encode('ticketpay.recipient.v1.GetTicketParamsRequest', value));
      checkOutcome(tally, 'GetTicketParams (structured)', out);
    });
    await runAll(fc.sample(bytes(100), { numRuns: 300, seed: SEED + 5 }), async (b) => {
      checkOutcome(
        tally,
        'grpc.health.v1 Check (raw bytes)',
        await raw.call('/grpc.health.v1.Health/Check', b),
      );
    });
    expect(await grpcHealthCheck(r.grpcUrl)).toBe('SERVING');
  }, 120_000);

  it('Debit, Balance, EV, TxCostMultiplier: coded errors; only accepted debits move a balance', async () => {
    const redisUrl = inject('redisUrl');
    const prefix = h.env.REDIS_PREFIX;
    const senderBytes = fc.oneof(
      bytes(40),
      fc.constant(Buffer.from(sender.address)),
      fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b)),
      fc.constant(Buffer.alloc(20)),
    );
    const jobId = fc.oneof(
      fc.string({ maxLength: 140 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.constantFrom(JOB, JOB, 'fuzz-debit', 'x'.repeat(128), 'x'.repeat(129), 'a b', '', 'job\n'),
    );
    const amount = fc.option(fc.record({ num: digits, den: digits }, { requiredKeys: [] }), {
      nil: undefined,
    });
    const balanceRequest = fc.record({ sender: senderBytes, jobId }, { requiredKeys: [] });

    // Read-only calls first: Redis must not change at all.
    const readOnlyBefore = await redisSnapshot(redisUrl, prefix);
    const ev = await raw.call(`${SVC}/EV`, new Uint8Array());
    expect(ev.code, ev.details).toBe(OK);
    await runAll(fc.sample(bytes(200), { numRuns: 500, seed: SEED + 6 }), async (b) => {
      const out = await raw.call(`${SVC}/EV`, b);
      // EVRequest has no fields: any well-formed message (unknown fields) gets the one EV.
      if (checkOutcome(tally, 'EV (raw bytes)', out) && out.code === OK)
        expect(out.response!.equals(ev.response!)).toBe(true);
    });
    await runAll(fc.sample(balanceRequest, { numRuns: 800, seed: SEED + 7 }), async (req) => {
      const out = await raw.call(BALANCE, encode('ticketpay.recipient.v1.BalanceRequest', req));
      checkOutcome(tally, 'Balance (structured)', out);
    });
    await runAll(fc.sample(bytes(200), { numRuns: 300, seed: SEED + 8 }), async (b) => {
      checkOutcome(tally, 'Balance (raw bytes)', await raw.call(BALANCE, b));
    });
    const txCostRequest = fc.record({ sender: senderBytes }, { requiredKeys: [] });
    await runAll(fc.sample(txCostRequest, { numRuns: 800, seed: SEED + 9 }), async (req) => {
      const out = await raw.call(
        `${SVC}/TxCostMultiplier`,
        encode('ticketpay.recipient.v1.TxCostMultiplierRequest', req),
      );
      checkOutcome(tally, 'TxCostMultiplier (structured)', out);
    });
    await runAll(fc.sample(bytes(200), { numRuns: 300, seed: SEED + 10 }), async (b) => {
      checkOutcome(tally, 'TxCostMultiplier (raw bytes)', await raw.call(`${SVC}/TxCostMultiplier`, b));
    });
    expectSameSnapshot(readOnlyBefore, await redisSnapshot(redisUrl, prefix));

    // Debits: each accepted one is summed per balance; nothing else may change.
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const balanceKey = (senderBytes: Uint8Array, job: string) =>
      `${prefix}${recipientBalanceKey(bytesToHex(senderBytes), job)}`;
    const read = async (keys: Iterable<string>) => {
      const out = new Map<string, string | undefined>();
      for (const k of keys) out.set(k, (await redis.get(k)) ?? undefined);
      return out;
    };
    const debitBefore = await redisSnapshot(redisUrl, prefix);
    const storedBefore = await read([...debitBefore.keys()].filter((k) => k.includes(':recipient:balance:')));
    const debited = new Map<string, Rational>();
    const debit = async (endpoint: string, req: { sender?: Buffer; jobId?: string; amount?: Msg }) => {
      const out = await raw.call(DEBIT, encode('ticketpay.recipient.v1.DebitRequest', req));
      if (checkOutcome(tally, endpoint, out) && out.code === OK) {
        const key = balanceKey(req.sender!, req.jobId!);
        debited.set(key, (debited.get(key) ?? Rational.ZERO).add(amountOf(req.amount)));
      }
    };
    const anyField = fc.record({ sender: senderBytes, jobId, amount }, { requiredKeys: [] });
    await runAll(fc.sample(anyField, { numRuns: 600, seed: SEED + 11 }), (req) =>
      debit('Debit (hostile fields)', req),
    );
    // A real account, so the amount is what decides: zero, tiny, over the balance, malformed.
    const onAccount = fc.record({
      sender: fc.oneof(
        fc.constant(Buffer.from(sender.address)),
        fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b)),
      ),
      jobId: fc.constantFrom(JOB, 'fuzz-debit'),
      amount: fc.record(
        {
          num: fc.oneof(fc.bigInt(0n, 1n << 70n).map(String), digits),
          den: fc.oneof(fc.bigInt(1n, 1n << 70n).map(String), fc.constantFrom('', '1'), digits),
        },
        { requiredKeys: [] },
      ),
    });
    await runAll(fc.sample(onAccount, { numRuns: 800, seed: SEED + 13 }), (req) =>
      debit('Debit (hostile amount)', req),
    );
    await runAll(fc.sample(bytes(200), { numRuns: 300, seed: SEED + 12 }), async (b) => {
      const out = await raw.call(DEBIT, b);
      if (checkOutcome(tally, 'Debit (raw bytes)', out) && out.code === OK) {
        const req = decode('ticketpay.recipient.v1.DebitRequest', b) as {
          sender: Buffer;
          jobId: string;
          amount?: { num?: string; den?: string };
        };
        const key = balanceKey(req.sender, req.jobId);
        debited.set(key, (debited.get(key) ?? Rational.ZERO).add(amountOf(req.amount ?? undefined)));
      }
    });
    // The boundary: the whole wei left on the job can be debited, one wei more cannot. (The
    // fuzzed dens make the exact balance longer than an amount may be; what is left is < 1 wei.)
    const jobKey = balanceKey(sender.address, JOB);
    const rest = storedBalance((await redis.get(jobKey)) ?? undefined);
    const whole = rest.num > 0n ? rest.num / rest.den : 0n;
    const all = await raw.call(
      DEBIT,
      encode('ticketpay.recipient.v1.DebitRequest', {
        sender: sender.address,
        jobId: JOB,
        amount: { num: whole.toString(), den: '1' },
      }),
    );
    expect(checkOutcome(tally, 'Debit (the whole balance)', all) && all.code).toBe(OK);
    debited.set(jobKey, (debited.get(jobKey) ?? Rational.ZERO).add(Rational.of(whole)));
    const over = await raw.call(
      DEBIT,
      encode('ticketpay.recipient.v1.DebitRequest', {
        sender: sender.address,
        jobId: JOB,
        amount: { num: '1', den: '1' },
      }),
    );
    checkOutcome(tally, 'Debit (one wei over)', over);
    expect(over.errorCode).toBe('INSUFFICIENT_BALANCE');

    const debitAfter = await redisSnapshot(redisUrl, prefix);
    const changed = [...new Set([...debitBefore.keys(), ...debitAfter.keys()])].filter(
      (k) => debitBefore.get(k) !== debitAfter.get(k),
    );
    expect(
      changed.filter((k) => !debited.has(k)),
      'Redis keys changed by refused debits',
    ).toEqual([]);
    const storedAfter = await read(debited.keys());
    for (const [key, sum] of debited) {
      const expected = storedBalance(storedBefore.get(key)).sub(sum);
      expect(storedBalance(storedAfter.get(key)).equals(expected), key).toBe(true);
    }
    expect(debited.size, 'no debit was accepted: the cases miss the valid path').toBeGreaterThan(0);
    redis.disconnect();
    expect(await grpcHealthCheck(r.grpcUrl)).toBe('SERVING');
  }, 120_000);

  it('reports the cases tried', () => {
    tally.report();
    expect(tally.total()).toBeGreaterThan(12_000);
  });
});
