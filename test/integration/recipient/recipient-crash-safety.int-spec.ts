import { randomBytes } from 'node:crypto';
import type { GetTicketParamsResponse } from '#app/clients';
import { Rational, bytesToHex } from '#app/ticket';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balanceKey, pendingCreditKey } from '../../../apps/recipient/src/balance/balances.service.js';
import { paramsKey } from '../../../apps/recipient/src/nonce/redis-nonce-ledger.js';
import { RECIPIENT_REDIS } from '../../../apps/recipient/src/recipient-redis.js';
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

// A payment stopped at any step (Postgres or Redis refusing, the process gone) leaves either the
// whole payment applied or nothing its retry cannot apply: each winner stored once, the credit
// applied once.
describe('Recipient: a payment interrupted at any step is applied exactly once by its retry', () => {
  let h: RecipientHarness;
  let sender: TestSender;

  beforeAll(async () => {
    h = await startHarness('recipient-crash-safety');
    sender = await h.newSender();
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** Nonces recorded for the params (the hash also holds their price and secret id). */
  const recorded = async (r: RunningRecipient, issued: GetTicketParamsResponse) =>
    (await r.redis.hlen(paramsKey(sender.hex, rrHashOf(issued)))) - 2;
  const balanceOf = async (r: RunningRecipient, jobId: string) =>
    ratio((await r.client.balance({ sender: sender.address, jobId })).balance);
  /**
   * Makes the (sender, job) balance a key of the wrong type, so that a Redis command on it fails
   * (Redis refusing); returns what puts its value back.
   */
  const breakBalance = async (r: RunningRecipient, jobId: string) => {
    const key = balanceKey(sender.hex, jobId);
    const before = (await r.redis.get(key))!;
    await r.redis.del(key);
    await r.redis.hset(key, 'broken', '1');
    return async (redis = r.redis) => {
      await redis.del(key);
      await redis.set(key, before, 'PX', 60_000);
    };
  };
  /** The commands the Recipient's payment connection sent while `work` ran (as bench countIo counts them). */
  const commandsDuring = async (r: RunningRecipient, work: () => Promise<unknown>) => {
    const redis = r.app.get<Redis>(RECIPIENT_REDIS);
    const names: string[] = [];
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
      names.push(args[0].name);
      return send(...args);
    };
    try {
      await work();
    } finally {
      // The prototype's method again.
      Reflect.deleteProperty(redis, 'sendCommand');
    }
    return names;
  };
  const times = (ev: Rational, n: bigint) => {
    const v = ev.mul(Rational.of(n));
    return `${v.num}/${v.den}`;
  };

  describe('on one Recipient', () => {
    let r: RunningRecipient;
    beforeAll(async () => {
      r = await h.boot(ALWAYS_WIN_UNRECONCILED);
    });

    it('Postgres refusing the winners: nothing recorded nor credited; the retry applies it once', async () => {
      const issued = await issue(r, sender);
      const payment = paymentMessage(issued, signBatch(issued, sender, [1, 2]));
      const db = r.app.get(DataSource);
      const fn = `refuse_${randomBytes(4).toString('hex')}`;
      await db.query(
        `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
           IF NEW.sender = '${sender.hex}' THEN RAISE EXCEPTION 'refused by the test'; END IF;
           RETURN NEW; END $$`,
      );
      await db.query(
        `CREATE TRIGGER ${fn} BEFORE INSERT ON winning_ticket FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
      );
      try {
        expect(await errorCodeOf(r.client.processPayment({ payment, jobId: 'job-pg' }))).toBe(
          'DATABASE_UNAVAILABLE',
        );
      } finally {
        await db.query(`DROP TRIGGER ${fn} ON winning_ticket`);
        await db.query(`DROP FUNCTION ${fn}()`);
      }
      expect(await recorded(r, issued)).toBe(0);
      expect(await r.countWinners(rrHashOf(issued))).toBe(0);
      expect(await balanceOf(r, 'job-pg')).toBe('0/1');

      const retry = await r.client.processPayment({ payment, jobId: 'job-pg' });
      expect([retry.acceptedCount, retry.winningCount]).toEqual([2, 2]);
      const replay = await r.client.processPayment({ payment, jobId: 'job-pg' });
      expect(replay.acceptedCount).toBe(0);
      expect(await r.countWinners(rrHashOf(issued))).toBe(2);
      expect(await balanceOf(r, 'job-pg')).toBe(times(evOf(issued), 2n));
    });

    it('Redis refusing the nonce script after the winners were stored: nothing recorded; the retry applies it once', async () => {
      const issued = await issue(r, sender);
      const pay = (nonces: number[]) =>
        r.client.processPayment({
          payment: paymentMessage(issued, signBatch(issued, sender, nonces)),
          jobId: 'job-redis',
        });
      // The balance is known here: the script itself sets it.
      await pay([1]);
      const repair = await breakBalance(r, 'job-redis');
      const payment = paymentMessage(issued, signBatch(issued, sender, [2]));
      expect(await errorCodeOf(r.client.processPayment({ payment, jobId: 'job-redis' }))).not.toBe(
        'NO_ERROR',
      );
      // The winner is in Postgres; its nonce is not recorded, nothing credited.
      expect(await r.countWinners(rrHashOf(issued))).toBe(2);
      expect(await recorded(r, issued)).toBe(1);

      await repair();
      const retry = await r.client.processPayment({ payment, jobId: 'job-redis' });
      expect([retry.acceptedCount, retry.winningCount]).toEqual([1, 1]);
      expect(await r.countWinners(rrHashOf(issued))).toBe(2);
      expect(await balanceOf(r, 'job-redis')).toBe(times(evOf(issued), 2n));
    });

    it('Redis refusing the script of a payment without winners: nothing recorded; the retry applies it once', async () => {
      const plain = await h.boot();
      try {
        const issued = await issue(plain, sender);
        const pay = (nonces: number[]) =>
          plain.client.processPayment({
            payment: paymentMessage(issued, signBatch(issued, sender, nonces)),
            jobId: 'job-plain',
          });
        await pay([1]);
        const repair = await breakBalance(plain, 'job-plain');
        expect(await errorCodeOf(pay([2, 3]))).not.toBe('NO_ERROR');
        expect(await recorded(plain, issued)).toBe(1);
        await repair();
        const retry = await pay([2, 3]);
        expect(retry.acceptedCount).toBe(2);
        expect(await balanceOf(plain, 'job-plain')).toBe(times(evOf(issued), 3n));
      } finally {
        await plain.close();
      }
    });

    it('a stale balance (another replica wrote it): credited once, on what Redis holds, in one write more', async () => {
      const issued = await issue(r, sender);
      const ev = evOf(issued);
      const pay = (nonces: number[]) =>
        r.client.processPayment({
          payment: paymentMessage(issued, signBatch(issued, sender, nonces)),
          jobId: 'job-stale',
        });
      await pay([1]);
      await r.redis.set(balanceKey(sender.hex, 'job-stale'), times(ev, 10n), 'PX', 60_000);
      const res = await pay([2]);
      expect(ratio(res.balance)).toBe(times(ev, 11n));
      expect(await r.redis.exists(pendingCreditKey(sender.hex, 'job-stale'))).toBe(0);
      expect(await balanceOf(r, 'job-stale')).toBe(times(ev, 11n));

      // Once the scripts are loaded: a payment on a known balance, then one on a stale balance.
      const known = await commandsDuring(r, () => pay([3]));
      await r.redis.set(balanceKey(sender.hex, 'job-stale'), times(ev, 20n), 'PX', 60_000);
      const stale = await commandsDuring(r, () => pay([4]));
      // The nonce script found the stale balance and said what it holds: the move of the pending
      // credit that follows is one compare-and-set, not a refused one and a second.
      expect(stale.length).toBe(known.length + 1);
      expect(stale.filter((c) => c === 'evalsha').length).toBe(
        known.filter((c) => c === 'evalsha').length + 1,
      );
      expect(await balanceOf(r, 'job-stale')).toBe(times(ev, 21n));
      expect(await r.redis.exists(pendingCreditKey(sender.hex, 'job-stale'))).toBe(0);
    });

    it('a pending credit left by a crashed replica is in the answer of the next payment, moved once', async () => {
      const issued = await issue(r, sender);
      const ev = evOf(issued);
      const pay = (nonces: number[]) =>
        r.client.processPayment({
          payment: paymentMessage(issued, signBatch(issued, sender, nonces)),
          jobId: 'job-left',
        });
      await pay([1]);
      // This process knows the balance: the next payment's script sets it, nothing else is sent.
      const plain = await commandsDuring(r, () => pay([2]));
      // Another replica's script credited two tickets to the pending credit; it died before moving it.
      const pending = pendingCreditKey(sender.hex, 'job-left');
      await r.redis.hincrby(pending, `${ev.num}/${ev.den}`, 2);
      await r.redis.pexpire(pending, 60_000);
      let res: Awaited<ReturnType<typeof pay>> | undefined;
      const moved = await commandsDuring(r, async () => (res = await pay([3])));
      expect(ratio(res!.balance)).toBe(times(ev, 5n));
      expect(await r.redis.exists(pending)).toBe(0);
      expect(await balanceOf(r, 'job-left')).toBe(times(ev, 5n));
      // The script said a pending credit was there: one compare-and-set moved it.
      expect(moved.length).toBe(plain.length + 1);
      // Without one, none.
      expect((await commandsDuring(r, () => pay([4]))).length).toBe(plain.length);
      expect(await balanceOf(r, 'job-left')).toBe(times(ev, 6n));
    });

    it('the move of an owed pending credit failing after the script: the payment is answered with its balance', async () => {
      const issued = await issue(r, sender);
      const ev = evOf(issued);
      const pay = (nonces: number[]) =>
        r.client.processPayment({
          payment: paymentMessage(issued, signBatch(issued, sender, nonces)),
          jobId: 'job-move',
        });
      await pay([1]);
      const pending = pendingCreditKey(sender.hex, 'job-move');
      await r.redis.hincrby(pending, `${ev.num}/${ev.den}`, 2);
      await r.redis.pexpire(pending, 60_000);
      // Redis refuses the compare-and-set that moves the pending credit (2 keys), nothing else.
      const redis = r.app.get<Redis>(RECIPIENT_REDIS);
      const send = redis.sendCommand.bind(redis);
      let refused = 0;
      redis.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
        const [command] = args;
        if (command.name === 'evalsha' && String(command.args[1]) === '2') {
          refused++;
          command.reject(new Error('refused by the test'));
          return command.promise;
        }
        return send(...args);
      };
      let res: Awaited<ReturnType<typeof pay>>;
      try {
        res = await pay([2]);
      } finally {
        Reflect.deleteProperty(redis, 'sendCommand');
      }
      expect(refused).toBeGreaterThan(0);
      // Applied and answered: its own ticket set the balance, the two owed are in the answer.
      expect(res.acceptedCount).toBe(1);
      expect(ratio(res.balance)).toBe(times(ev, 4n));
      expect(await r.redis.exists(pending)).toBe(1);
      expect(await balanceOf(r, 'job-move')).toBe(times(ev, 4n));
      // The next payment moves it, once.
      expect(ratio((await pay([3])).balance)).toBe(times(ev, 5n));
      expect(await r.redis.exists(pending)).toBe(0);
      expect(await balanceOf(r, 'job-move')).toBe(times(ev, 5n));
    });

    it('a winner over the nonce cap or at a price the params were not issued for is not stored', async () => {
      const capped = await h.boot({ ...ALWAYS_WIN_UNRECONCILED, RECIPIENT_MAX_SENDER_NONCES: '2' });
      try {
        const issued = await issue(capped, sender);
        const res = await capped.client.processPayment({
          payment: paymentMessage(issued, signBatch(issued, sender, [1, 2, 3])),
          jobId: 'job-cap',
        });
        expect(res.tickets.map((t) => t.errorCode)).toEqual(['', '', 'TOO_MANY_NONCES']);
        expect(await capped.tickets.findByHash(bytesToHex(res.tickets[2].ticketHash))).toBeNull();
        expect(await capped.countWinners(rrHashOf(issued))).toBe(2);

        // Two payments of one call checked before either records: the second's winner, stored,
        // then over the cap, is taken back.
        const race = await issue(capped, sender);
        const { results } = await capped.client.processPayments({
          payments: [[1, 2], [3]].map((nonces) => ({
            payment: paymentMessage(race, signBatch(race, sender, nonces)),
            jobId: 'job-cap-race',
          })),
        });
        expect(results.map((x) => x.response?.tickets.map((t) => t.errorCode))).toEqual([
          ['', ''],
          ['TOO_MANY_NONCES'],
        ]);
        expect(await capped.countWinners(rrHashOf(race))).toBe(2);

        const wrong = await issue(capped, sender);
        await capped.redis.hset(paramsKey(sender.hex, rrHashOf(wrong)), 'price', '1/1');
        expect(
          await errorCodeOf(
            capped.client.processPayment({
              payment: paymentMessage(wrong, signBatch(wrong, sender, [1])),
              jobId: 'job-price',
            }),
          ),
        ).toBe('PRICE_MISMATCH');
        expect(await capped.countWinners(rrHashOf(wrong))).toBe(0);
      } finally {
        await capped.close();
      }
    });
  });

  describe('across a restart (a new Recipient on the same Redis and Postgres)', () => {
    it('a crash after the winners were stored, before the script: the retry to the new process applies it once', async () => {
      const a = await h.boot(ALWAYS_WIN_UNRECONCILED);
      const issued = await issue(a, sender);
      await a.client.processPayment({
        payment: paymentMessage(issued, signBatch(issued, sender, [1])),
        jobId: 'job-restart',
      });
      // The script fails after the winners were stored, and the process is gone.
      const repair = await breakBalance(a, 'job-restart');
      const payment = paymentMessage(issued, signBatch(issued, sender, [2, 3]));
      expect(await errorCodeOf(a.client.processPayment({ payment, jobId: 'job-restart' }))).not.toBe(
        'NO_ERROR',
      );
      expect(await a.countWinners(rrHashOf(issued))).toBe(3);
      await a.close();

      const b = await h.boot(ALWAYS_WIN_UNRECONCILED);
      try {
        await repair(b.redis);
        // Unknown to the new process: read first, then credited in the script.
        const retry = await b.client.processPayment({ payment, jobId: 'job-restart' });
        expect([retry.acceptedCount, retry.winningCount]).toEqual([2, 2]);
        expect(ratio(retry.balance)).toBe(times(evOf(issued), 3n));
        expect(await b.countWinners(rrHashOf(issued))).toBe(3);
        const replay = await b.client.processPayment({ payment, jobId: 'job-restart' });
        expect(replay.acceptedCount).toBe(0);
        expect(await balanceOf(b, 'job-restart')).toBe(times(evOf(issued), 3n));
      } finally {
        await b.close();
      }
    });

    it('a crash before a pending credit was moved into the balance: counted by the new process, moved once', async () => {
      const a = await h.boot(ALWAYS_WIN_UNRECONCILED);
      const issued = await issue(a, sender);
      const ev = evOf(issued);
      const pay = (r: RunningRecipient, nonces: number[]) =>
        r.client.processPayment({
          payment: paymentMessage(issued, signBatch(issued, sender, nonces)),
          jobId: 'job-pending',
        });
      await pay(a, [1]);
      await a.close();
      // What the nonce script leaves when it credits two tickets to the pending credit and the
      // process dies before moving it into the balance.
      const b = await h.boot(ALWAYS_WIN_UNRECONCILED);
      try {
        const pending = pendingCreditKey(sender.hex, 'job-pending');
        await b.redis.hincrby(pending, `${ev.num}/${ev.den}`, 2);
        await b.redis.pexpire(pending, 60_000);
        expect(await balanceOf(b, 'job-pending')).toBe(times(ev, 3n));
        const res = await pay(b, [2]);
        expect(ratio(res.balance)).toBe(times(ev, 4n));
        expect(await b.redis.exists(pending)).toBe(0);
        expect(await balanceOf(b, 'job-pending')).toBe(times(ev, 4n));
      } finally {
        await b.close();
      }
    });
  });
});
