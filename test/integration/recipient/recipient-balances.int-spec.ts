import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { FactoryProvider } from '@nestjs/common';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Rational } from '#app/ticket';
import {
  Balances,
  balanceKey,
  legacyBalanceKey,
  pendingCreditKey,
} from '../../../apps/recipient/src/balance/balances.service.js';
import {
  RedisNonceLedger,
  priceField,
  type RideAlong,
} from '../../../apps/recipient/src/nonce/redis-nonce-ledger.js';
import { RecipientConfig } from '../../../apps/recipient/src/recipient.config.js';
import { recipientRedisProvider } from '../../../apps/recipient/src/recipient-redis.js';
import { startRedisFaultProxy, type RedisFaultProxy } from '../../support/redis-fault-proxy.js';
import { offlineEnv } from './recipient-fixture.js';

// Two Balances on their own connections play two replicas: each starts its compare-and-set from
// the value it last saw, which the other one may have changed meanwhile. Credits go the way a
// payment's do: with its nonces, in the nonce script (the rider), then settled.
describe('Recipient balances across replicas (real Redis)', () => {
  const prefix = `${inject('redisPrefix')}recipient-balances:`;
  const connections: Redis[] = [];
  const services: Balances[] = [];
  const config = RecipientConfig.fromEnv(offlineEnv(prefix));
  const sender = `0x${'33'.repeat(20)}`;
  const price = Rational.of(1n);
  const replica = (
    redis: Redis = new Redis(inject('redisUrl'), { keyPrefix: prefix, enableAutoPipelining: true }),
  ) => {
    connections.push(redis);
    const balances = new Balances(redis, config);
    services.push(balances);
    const ledger = new RedisNonceLedger(redis, config);
    return {
      balance: (jobId: string) => balances.balance(sender, jobId),
      debit: (jobId: string, amount: Rational) => balances.debit(sender, jobId, amount),
      /** A payment of one ticket of EV `ev` on fresh params; returns the balance it answers. */
      async credit(jobId: string, ev: Rational): Promise<Rational> {
        const params = randomBytes(32).toString('hex');
        await ledger.register(sender, params, price, '1');
        const ride: RideAlong = { rider: await balances.rider(sender, jobId, ev, 1) };
        try {
          await ledger.recordAt(sender, params, priceField(price), [1], ride);
        } catch (err) {
          // As PaymentService: the rider is settled whatever happened.
          await balances.settle(ride.rider!, ride.settled ?? { kind: 'error' });
          throw err;
        }
        // A new nonce is credited: settle answers the balance after it.
        return (await balances.settle(ride.rider!, ride.settled!))!;
      },
    };
  };
  const wei = (n: bigint) => Rational.of(n);

  afterAll(async () => {
    // As at a service's shutdown: the moves behind the answers end before Redis closes.
    await Promise.all(services.map((b) => b.beforeApplicationShutdown()));
    await Promise.all(connections.map((c) => c.quit()));
  });

  it('credits and debits exactly when another replica changed the balance since', async () => {
    const [a, b] = [replica(), replica()];
    expect((await a.credit('job-1', wei(10n))).equals(wei(10n))).toBe(true);
    expect((await b.credit('job-1', wei(5n))).equals(wei(15n))).toBe(true);
    // a still remembers 10: its compare-and-set fails once and applies to the real 15.
    expect((await a.debit('job-1', wei(14n))).equals(wei(1n))).toBe(true);
    expect((await b.balance('job-1')).equals(wei(1n))).toBe(true);
  });

  it('refuses a debit only on the balance Redis holds, not on a stale memory of it', async () => {
    const [a, b] = [replica(), replica()];
    expect((await a.balance('job-2')).equals(Rational.ZERO)).toBe(true);
    await b.credit('job-2', wei(100n));
    // a remembers 0, where the debit would be refused; Redis holds 100.
    expect((await a.debit('job-2', wei(50n))).equals(wei(50n))).toBe(true);
    // b remembers 100; Redis holds 50: this debit is refused and changes nothing.
    await expect(b.debit('job-2', wei(60n))).rejects.toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
    expect((await a.balance('job-2')).equals(wei(50n))).toBe(true);
  });

  it('moves a balance from its legacy key (before the sender hash tag) on the first update', async () => {
    const [a, b] = [replica(), replica()];
    const raw = connections[0];
    await raw.set(legacyBalanceKey(sender, 'job-legacy'), '7/2', 'PX', 60_000);
    // Read-only: seen through the legacy key, not moved.
    expect((await b.balance('job-legacy')).equals(Rational.of(7n, 2n))).toBe(true);
    expect((await a.credit('job-legacy', wei(1n))).equals(Rational.of(9n, 2n))).toBe(true);
    expect(await raw.get(legacyBalanceKey(sender, 'job-legacy'))).toBeNull();
    expect(await raw.get(balanceKey(sender, 'job-legacy'))).toBe('9/2');
    // b's first update reads the new key; the legacy one is gone, nothing is counted twice.
    expect((await b.debit('job-legacy', wei(4n))).equals(Rational.of(1n, 2n))).toBe(true);
  });

  it('a legacy balance left by an older replica after the move is added on the next first update', async () => {
    const a = replica();
    await a.credit('job-late', wei(10n));
    await connections[0].set(legacyBalanceKey(sender, 'job-late'), '3/1', 'PX', 60_000);
    // A fresh process (no memory of the balance) moves it; a debit refused moves it all the same.
    const restarted = replica();
    await expect(restarted.debit('job-late', wei(1_000n))).rejects.toMatchObject({
      code: 'INSUFFICIENT_BALANCE',
    });
    expect((await restarted.balance('job-late')).equals(wei(13n))).toBe(true);
    expect(await connections[0].get(legacyBalanceKey(sender, 'job-late'))).toBeNull();
  });

  it("answers each of one replica's concurrent credits with the balance its script saw, then folds what is owed", async () => {
    const a = replica();
    const credits = Array.from({ length: 24 }, (_, i) => 1n << BigInt(i));
    const total = credits.reduce((x, y) => x + y, 0n);
    const answers = await Promise.all(credits.map((c) => a.credit('job-4', wei(c))));
    // Scripts run one after another: each answer is the credits recorded up to and with its own,
    // so the answers, sorted, step up by each credit exactly once (none counts a later one).
    const sorted = answers.map((r) => r.num).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const steps = sorted.map((v, i) => v - (i === 0 ? 0n : sorted[i - 1]));
    expect(answers.every((r) => r.den === 1n)).toBe(true);
    expect(steps.sort((x, y) => (x < y ? -1 : 1))).toEqual(credits);
    // The pending credit is moved into the balance behind the answers.
    await Promise.all(services.map((b) => b.beforeApplicationShutdown()));
    expect(await connections[0].get(balanceKey(sender, 'job-4'))).toBe(`${total}/1`);
    expect(await connections[0].exists(pendingCreditKey(sender, 'job-4'))).toBe(0);
    expect((await a.balance('job-4')).equals(wei(total))).toBe(true);
  });

  it('moves a pending credit of several EVs left by a crash with the first compare-and-set', async () => {
    const a = replica();
    const redis = connections[connections.length - 1];
    // What a nonce script leaves when the replica that ran it crashed before moving the credit.
    const pending = pendingCreditKey(sender, 'job-owed');
    await redis.hincrby(pending, Rational.of(10n).toString(), 3);
    await redis.hincrby(pending, Rational.of(1n, 3n).toString(), 2);
    await redis.hincrby(pending, Rational.of(7n, 2n).toString(), 1);
    const owed = Rational.of(30n).add(Rational.of(2n, 3n)).add(Rational.of(7n, 2n));
    expect((await a.balance('job-owed')).equals(owed)).toBe(true);
    const scripts: string[] = [];
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = (command: Parameters<typeof send>[0]) => {
      scripts.push(command.name);
      return send(command);
    };
    try {
      expect((await a.debit('job-owed', wei(1n))).equals(owed.sub(wei(1n)))).toBe(true);
    } finally {
      redis.sendCommand = send;
    }
    // One read, then one compare-and-set: the pending credit read is the string the script compares.
    expect(scripts.filter((name) => name === 'evalsha' || name === 'eval')).toHaveLength(2);
    expect(await redis.exists(pending)).toBe(0);
    expect((await a.balance('job-owed')).equals(owed.sub(wei(1n)))).toBe(true);
  });

  describe("on the Recipient's own connection, lost between a script's run and its reply", () => {
    let proxy: RedisFaultProxy;
    /** A replica on the Recipient's payment-path connection (recipientRedisProvider), through `proxy`. */
    const cutReplica = async () => {
      proxy ??= await startRedisFaultProxy(inject('redisUrl'));
      const env = { ...offlineEnv(prefix), REDIS_URL: proxy.url };
      const provider = recipientRedisProvider as FactoryProvider<Redis>;
      const redis = provider.useFactory(RecipientConfig.fromEnv(env)) as Redis;
      cut.push(redis);
      return replica(redis);
    };
    const cut: Redis[] = [];
    afterAll(async () => {
      // Closed before their proxy goes, or they would try to reconnect to it.
      await Promise.all(services.map((b) => b.beforeApplicationShutdown()));
      for (const redis of cut) {
        connections.splice(connections.indexOf(redis), 1);
        await redis.quit();
      }
      await proxy?.stop();
    });

    it('charges a debit once: the compare-and-set is not sent again, the debit fails as unknown', async () => {
      const direct = replica();
      await direct.credit('job-cut', wei(100n));
      // The compare-and-set script is in Redis's cache, so the cut falls on its run (not a NOSCRIPT).
      await direct.debit('job-cut', wei(1n));
      const cut = await cutReplica();
      expect((await cut.balance('job-cut')).equals(wei(99n))).toBe(true);
      const lost = proxy.cutReplyTo(pendingCreditKey(sender, 'job-cut'));
      await expect(cut.debit('job-cut', wei(10n))).rejects.toThrow();
      await lost;
      expect((await direct.balance('job-cut')).equals(wei(89n))).toBe(true);
      // Connected again, the next debit starts from what Redis holds.
      expect((await cut.debit('job-cut', wei(9n))).equals(wei(80n))).toBe(true);
    });

    it('credits a payment once and never answers it as its own replay: the nonce script is not sent again', async () => {
      const direct = replica();
      await direct.credit('job-cut-credit', wei(1n));
      const cut = await cutReplica();
      expect((await cut.balance('job-cut-credit')).equals(wei(1n))).toBe(true);
      const lost = proxy.cutReplyTo(pendingCreditKey(sender, 'job-cut-credit'));
      await expect(cut.credit('job-cut-credit', wei(5n))).rejects.toThrow();
      await lost;
      expect((await direct.balance('job-cut-credit')).equals(wei(6n))).toBe(true);
      expect((await cut.credit('job-cut-credit', wei(2n))).equals(wei(8n))).toBe(true);
    });
  });

  it('loses no credit when replicas credit the same balance concurrently', async () => {
    const replicas = [replica(), replica(), replica()];
    await Promise.all(
      Array.from({ length: 90 }, (_, i) => replicas[i % 3].credit('job-3', wei(BigInt(i + 1)))),
    );
    expect((await replicas[0].balance('job-3')).equals(wei((90n * 91n) / 2n))).toBe(true);
  });
});
