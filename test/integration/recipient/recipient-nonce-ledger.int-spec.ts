import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { NonceOutcome, Rational } from '#app/ticket';
import {
  Balances,
  balanceKey,
  pendingCreditKey,
} from '../../../apps/recipient/src/balance/balances.service.js';
import {
  RedisNonceLedger,
  legacyParamsKey,
  paramsKey,
  priceField,
  type RideAlong,
} from '../../../apps/recipient/src/nonce/redis-nonce-ledger.js';
import { RecipientConfig } from '../../../apps/recipient/src/recipient.config.js';
import { offlineEnv } from './recipient-fixture.js';

// Payments of one sender recorded in the same turn share one script call: each must still get
// exactly the outcome it would have had alone, whatever the others' outcomes.
describe('Recipient nonce ledger: payments of one sender in one script call (real Redis)', () => {
  const prefix = `${inject('redisPrefix')}recipient-nonce-ledger:`;
  const env = offlineEnv(prefix);
  const config = RecipientConfig.fromEnv({ ...env, RECIPIENT_MAX_SENDER_NONCES: '3' });
  const redis = new Redis(inject('redisUrl'), { keyPrefix: prefix, enableAutoPipelining: true });
  const ledger = new RedisNonceLedger(redis, config);
  const balances = new Balances(redis, config);
  const sender = `0x${'33'.repeat(20)}`;
  const price = Rational.of(3n, 2n);
  /** The id of the secret the params are registered with (a SecretVersion id). */
  const secretId = '7';
  const { RECORDED, ALREADY_SEEN, TOO_MANY } = NonceOutcome;

  /** The scripts on sender-tagged params Redis ran while `work` ran (seen by MONITOR on a second connection). */
  async function scriptCalls(work: () => Promise<void>): Promise<number> {
    const monitor = await redis.duplicate().monitor();
    const marker = `${prefix}marker:${randomBytes(4).toString('hex')}`;
    let calls = 0;
    const seen = new Promise<void>((resolve) =>
      monitor.on('monitor', (_time: string, args: string[]) => {
        const name = args[0].toLowerCase();
        if (
          (name === 'evalsha' || name === 'eval') &&
          args[3]?.startsWith(`${prefix}recipient:params:{${sender}}`)
        )
          calls++;
        if (args.includes(marker)) resolve();
      }),
    );
    try {
      await work();
      // Redis runs one connection's commands in order: once the marker shows, so has the work.
      await redis.get(marker.slice(prefix.length));
      await seen;
      return calls;
    } finally {
      monitor.disconnect();
    }
  }

  const rand = () => randomBytes(32).toString('hex');

  /** Fresh params registered for `sender`, and a ledger capping them at `cap` nonces. */
  async function freshParams(cap: number): Promise<{ rr: string; capped: RedisNonceLedger }> {
    const rr = rand();
    await ledger.register(sender, rr, price, secretId);
    const capped = new RedisNonceLedger(
      redis,
      RecipientConfig.fromEnv({ ...env, RECIPIENT_MAX_SENDER_NONCES: String(cap) }),
    );
    return { rr, capped };
  }

  afterAll(async () => {
    await balances.beforeApplicationShutdown();
    await redis.quit();
  });

  it('gives each payment its own outcome: recorded, replayed, over the cap, unknown, wrong price, legacy', async () => {
    const [fresh, seen, capped, legacy, unknown, cheap] = [rand(), rand(), rand(), rand(), rand(), rand()];
    for (const r of [fresh, seen, capped, cheap]) await ledger.register(sender, r, price, secretId);
    await ledger.recordAt(sender, seen, priceField(price), [7]);
    await redis.hset(legacyParamsKey(legacy), 'price', priceField(price));
    await redis.pexpire(legacyParamsKey(legacy), 60_000);
    const at = priceField(price);
    let outcomes: PromiseSettledResult<NonceOutcome[]>[] = [];
    const calls = await scriptCalls(async () => {
      outcomes = await Promise.allSettled([
        ledger.recordAt(sender, fresh, at, [1, 2]),
        ledger.recordAt(sender, seen, at, [7, 8]),
        ledger.recordAt(sender, capped, at, [1, 2, 3, 4]),
        ledger.recordAt(sender, legacy, at, [5]),
        ledger.recordAt(sender, unknown, at, [1]),
        ledger.recordAt(sender, cheap, priceField(Rational.of(1n)), [1]),
        // The same params as the first payment, after it in the same call: sees its nonces.
        ledger.recordAt(sender, fresh, at, [2, 3]),
        // And counts them: the params now hold 3 nonces, the cap.
        ledger.recordAt(sender, fresh, at, [4]),
      ]);
    });
    // One call for the eight (the two the sender's keys did not know then try the legacy key).
    expect(calls).toBe(1);
    const value = (i: number) => (outcomes[i] as PromiseFulfilledResult<NonceOutcome[]>).value;
    const reason = (i: number) => (outcomes[i] as PromiseRejectedResult).reason as { code: string };
    expect(value(0)).toEqual([RECORDED, RECORDED]);
    expect(value(1)).toEqual([ALREADY_SEEN, RECORDED]);
    expect(value(2)).toEqual([RECORDED, RECORDED, RECORDED, TOO_MANY]);
    expect(value(3)).toEqual([RECORDED]);
    expect(reason(4).code).toBe('PARAMS_UNKNOWN');
    expect(reason(5).code).toBe('PRICE_MISMATCH');
    expect(value(6)).toEqual([ALREADY_SEEN, RECORDED]);
    expect(value(7)).toEqual([TOO_MANY]);
    // The refused price recorded nothing.
    expect(await ledger.recordAt(sender, cheap, at, [1])).toEqual([RECORDED]);
  });

  it('keeps the id of the secret that issued the params beside their price, counting neither as a nonce', async () => {
    const [named, unnamed] = [rand(), rand()];
    await ledger.register(sender, named, price, secretId);
    // Params registered before their record named a secret: the price alone.
    await redis.hset(paramsKey(sender, unnamed), 'price', priceField(price));
    await redis.pexpire(paramsKey(sender, unnamed), 60_000);
    expect(await redis.hgetall(paramsKey(sender, named))).toEqual({ price: '3/2', secretId });
    expect(await ledger.issuerOf(sender, named)).toBe(secretId);
    expect(await ledger.issuerOf(sender, unnamed)).toBeUndefined();
    expect(await ledger.issuerOf(sender, rand())).toBeUndefined();
    // The cap of 3 counts nonces only, in either record, across calls.
    const at = priceField(price);
    for (const rr of [named, unnamed]) {
      expect(await ledger.peek(sender, rr, at, [1, 2, 3, 4])).toEqual([
        RECORDED,
        RECORDED,
        RECORDED,
        TOO_MANY,
      ]);
      expect(await ledger.recordAt(sender, rr, at, [1, 2])).toEqual([RECORDED, RECORDED]);
      expect(await ledger.recordAt(sender, rr, at, [3, 4])).toEqual([RECORDED, TOO_MANY]);
    }
    expect(await ledger.issuerOf(sender, named)).toBe(secretId);
  });

  it('credits the nonces each payment recorded in their script: to the balance, else to its pending credit', async () => {
    const [a, b, c] = [rand(), rand(), rand()];
    for (const r of [a, b, c]) await ledger.register(sender, r, price, secretId);
    await ledger.recordAt(sender, c, priceField(price), [9]);
    for (const job of ['job-a', 'job-b', 'job-c']) await balances.balance(sender, job);
    const ev = Rational.of(10n);
    const pay = async (rr: string, job: string, nonces: number[]) => {
      const ride: RideAlong = { rider: await balances.rider(sender, job, ev, nonces.length) };
      const outcomes = await ledger.forPayment(sender, price, ride).record(rr, 0n, nonces);
      const pending = ride.settled?.kind === 'pending' ? ride.settled.pending : undefined;
      results.push({ job, pending, balance: await balances.settle(ride.rider!, ride.settled!) });
      return outcomes;
    };
    const results: { job: string; pending?: string; balance?: Rational }[] = [];
    // job-b's balance changed behind this process's back: its compare-and-set refuses.
    await redis.set(balanceKey(sender, 'job-b'), '5/1');
    let outcomes: (readonly NonceOutcome[])[] = [];
    const calls = await scriptCalls(async () => {
      outcomes = await Promise.all([pay(a, 'job-a', [1]), pay(b, 'job-b', [1]), pay(c, 'job-c', [9, 10])]);
    });
    expect(calls).toBe(1);
    expect(outcomes).toEqual([[RECORDED], [RECORDED], [ALREADY_SEEN, RECORDED]]);
    // a: set by the script; b (stale) and c (not every nonce new): pending, then moved in.
    const byJob = Object.fromEntries(results.map((r) => [r.job, r]));
    expect(byJob['job-a'].pending).toBeUndefined();
    expect(byJob['job-b'].pending).toBe('10/1=1');
    expect(byJob['job-c'].pending).toBe('10/1=1');
    expect(results.map((r) => [r.job, r.balance?.toString()]).sort()).toEqual([
      ['job-a', '10/1'],
      ['job-b', '15/1'],
      ['job-c', '10/1'],
    ]);
    expect(await redis.get(balanceKey(sender, 'job-a'))).toBe('10/1');
    expect(await redis.get(balanceKey(sender, 'job-b'))).toBe('15/1');
    expect(await redis.get(balanceKey(sender, 'job-c'))).toBe('10/1');
    expect(await redis.exists(pendingCreditKey(sender, 'job-b'), pendingCreditKey(sender, 'job-c'))).toBe(0);
  });

  it('splits a turn with more nonces than one call carries, recording every one once', async () => {
    const { rr, capped: big } = await freshParams(10_000);
    const batches = Array.from({ length: 5 }, (_, i) => Array.from({ length: 600 }, (_, j) => i * 600 + j));
    let results: (readonly NonceOutcome[])[] = [];
    const calls = await scriptCalls(async () => {
      results = await Promise.all(
        batches.map((nonces) => big.recordAt(sender, rr, priceField(price), nonces)),
      );
    });
    // At most 2,048 nonces per call: three payments of 600, then two.
    expect(calls).toBe(2);
    expect(results.flat().every((o) => o === RECORDED)).toBe(true);
    // The nonces, the price and the secret id.
    expect(await redis.hlen(paramsKey(sender, rr))).toBe(3_002);
  });

  it('looks nonces up and records them past the 1,000 of one lookup: seen, repeated and capped alike', async () => {
    const { rr, capped } = await freshParams(2_100);
    const at = priceField(price);
    // Seen before: one in the first lookup's chunk, one in the second's.
    await capped.recordAt(sender, rr, at, [10, 1_500]);
    // 2,200 distinct nonces with 10 and 1,500 among them, and 999 again right at the chunk edge.
    const nonces = Array.from({ length: 2_200 }, (_, i) => i);
    nonces.splice(1_000, 0, 999);
    const expected: (NonceOutcome | undefined)[] = nonces.map((n, i) =>
      n === 10 || n === 1_500 || i === 1_000 ? ALREADY_SEEN : undefined,
    );
    // 2 recorded before: 2,098 more fit under the cap of 2,100, in order; the rest are too many.
    let room = 2_098;
    for (let i = 0; i < expected.length; i++) expected[i] ??= room-- > 0 ? RECORDED : TOO_MANY;
    expect(await capped.peek(sender, rr, at, nonces)).toEqual(expected);
    expect(await redis.hlen(paramsKey(sender, rr))).toBe(4);
    expect(await capped.recordAt(sender, rr, at, nonces)).toEqual(expected);
    expect(await redis.hlen(paramsKey(sender, rr))).toBe(2_102);
    const last = nonces[nonces.length - 1];
    expect(await redis.hmget(paramsKey(sender, rr), '2097', '2099', String(last))).toEqual(['1', '1', null]);
  });
});
