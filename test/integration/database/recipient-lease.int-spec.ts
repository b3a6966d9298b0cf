import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SenderFundsTimeout, SignerLease, createDataSource, recipientServed } from '#app/database';
import { privateDatabase, type PrivateDatabase } from '../../support/private-database.js';

const address = () => `0x${randomBytes(20).toString('hex')}`;
const CHAIN = 31_337n;

/**
 * The recipient leases of SignerLease on real Postgres: each lease is a Redeemer process (its own
 * pool), the way two Redeemers with different keys would meet over one database.
 */
describe('SignerLease recipient leases', () => {
  let db: PrivateDatabase;
  const pools: DataSource[] = [];
  const leases: SignerLease[] = [];

  /** A SignerLease on a pool of its own, released and closed after the test. */
  async function newLease(): Promise<SignerLease> {
    const ds = await createDataSource(db.url).initialize();
    pools.push(ds);
    const lease = new SignerLease(ds);
    leases.push(lease);
    return lease;
  }

  /** A Redeemer holding the lease of `signer`. */
  async function redeemer(signer = address()): Promise<{ lease: SignerLease; signer: string }> {
    const lease = await newLease();
    expect(
      await lease.acquire(
        signer,
        () => false,
        () => undefined,
      ),
    ).toBe(true);
    return { lease, signer };
  }

  beforeAll(async () => {
    db = await privateDatabase('recipient_lease');
  });

  afterEach(async () => {
    for (const lease of leases.splice(0)) await lease.release();
    for (const ds of pools.splice(0)) await ds.destroy();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('refuses a list that overlaps another signer’s, all or none, and names the holder', async () => {
    const [r1, r2, r3, r4] = [address(), address(), address(), address()];
    const a = await redeemer();
    const b = await redeemer();
    expect(await a.lease.leaseRecipients(CHAIN, [r1, r2])).toEqual([]);

    expect(await b.lease.leaseRecipients(CHAIN, [r3, r2])).toEqual([{ recipient: r2, holders: [a.signer] }]);
    // None of b's list is held: r3, leased before r2 was refused, went back.
    const c = await redeemer();
    expect(await c.lease.leaseRecipients(CHAIN, [r3])).toEqual([]);
    // Disjoint lists live side by side; the same recipient on another chain is another lease.
    expect(await b.lease.leaseRecipients(CHAIN, [r4])).toEqual([]);
    const d = await redeemer();
    expect(await d.lease.leaseRecipients(CHAIN + 1n, [r1])).toEqual([]);
    // Asked again once held: nothing more is taken (advisory locks would count twice).
    expect(await a.lease.leaseRecipients(CHAIN, [r1, r2])).toEqual([]);
  });

  it('lets * (every recipient) run only with no other redeemer on the chain, and the other way round', async () => {
    const a = await redeemer();
    const all = await redeemer();
    expect(await a.lease.leaseRecipients(CHAIN, [address()])).toEqual([]);
    expect(await all.lease.leaseRecipients(CHAIN, undefined)).toEqual([
      { recipient: '*', holders: [a.signer] },
    ]);

    await a.lease.release();
    expect(await all.lease.leaseRecipients(CHAIN, undefined)).toEqual([]);
    const b = await redeemer();
    expect(await b.lease.leaseRecipients(CHAIN, [address()])).toEqual([
      { recipient: '*', holders: [all.signer] },
    ]);
    const other = await redeemer();
    expect(await other.lease.leaseRecipients(CHAIN, undefined)).toEqual([
      { recipient: '*', holders: [all.signer] },
    ]);
  });

  it('tells whether a Redeemer serves a recipient: by its lease, or by * (a shared * key is not one)', async () => {
    const observer = await newLease();
    const ds = pools[pools.length - 1];
    const [r1, r2] = [address(), address()];
    expect(await recipientServed(ds, CHAIN, r1)).toBe(false);
    const a = await redeemer();
    // A list takes the * key shared: that serves only the recipients it names.
    expect(await a.lease.leaseRecipients(CHAIN, [r1])).toEqual([]);
    expect(await recipientServed(ds, CHAIN, r1)).toBe(true);
    expect(await recipientServed(ds, CHAIN, r1.toUpperCase().replace('0X', '0x'))).toBe(true);
    expect(await recipientServed(ds, CHAIN, r2)).toBe(false);
    expect(await recipientServed(ds, CHAIN + 1n, r1)).toBe(false);
    await a.lease.release();
    expect(await recipientServed(ds, CHAIN, r1)).toBe(false);
    const all = await redeemer();
    expect(await all.lease.leaseRecipients(CHAIN, undefined)).toEqual([]);
    expect(await recipientServed(ds, CHAIN, r2)).toBe(true);
    expect(observer.held).toBe(false);
  });

  it('hands a recipient over once its holder releases it or its connection dies', async () => {
    const r = address();
    const a = await redeemer();
    const b = await redeemer();
    expect(await a.lease.leaseRecipients(CHAIN, [r])).toEqual([]);
    expect(await b.lease.leaseRecipients(CHAIN, [r])).toHaveLength(1);
    await a.lease.release();
    expect(await b.lease.leaseRecipients(CHAIN, [r])).toEqual([]);

    // kill -9 of b's process, as Postgres sees it: its session ends, its leases with it.
    const c = await redeemer();
    expect(await c.lease.leaseRecipients(CHAIN, [r])).toHaveLength(1);
    await pools[0].query(
      // With a timeout it returns once the session is gone (its locks released), not when signalled.
      `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = $1`,
      [`ticketpay-redeemer ${b.signer}`],
    );
    expect(await c.lease.leaseRecipients(CHAIN, [r])).toEqual([]);
  });

  it('keeps a same-signer replica standing by on the signer lease, before any recipient lease', async () => {
    const signer = address();
    const active = await redeemer(signer);
    expect(await active.lease.leaseRecipients(CHAIN, [address()])).toEqual([]);
    const standby = await newLease();
    let tries = 0;
    expect(
      await standby.acquire(
        signer,
        () => tries++ > 0,
        () => undefined,
      ),
    ).toBe(false);
    await expect(standby.leaseRecipients(CHAIN, [address()])).rejects.toThrow(/signer lease is not held/);
  });

  it("tells whether a Redeemer holds a signer's lease (another process's, or its own), until it is released", async () => {
    const a = await redeemer();
    const b = await redeemer();
    const watcher = await newLease();
    expect(await watcher.live(a.signer)).toBe(true);
    expect(await watcher.live(a.signer.toUpperCase().replace('0X', '0x'))).toBe(true);
    expect(await a.lease.live(a.signer)).toBe(true);
    expect(await watcher.live(address())).toBe(false);

    await a.lease.release();
    expect(await watcher.live(a.signer)).toBe(false);
    expect(await watcher.live(b.signer)).toBe(true);
  });

  it("makes a second Redeemer's funds check of a sender wait for the first's, even one that throws", async () => {
    const [s1, s2, s3] = [address(), address(), address()];
    const a = await redeemer();
    const b = await redeemer();
    const c = await redeemer();
    const order: string[] = [];
    let fail!: () => void;
    const failed = new Promise<void>((_, reject) => (fail = () => reject(new Error('check failed'))));
    let started!: () => void;
    const holding = new Promise<void>((r) => (started = r));
    const first = a.lease.withSenderFunds(CHAIN, [s2, s1, s1], async () => {
      started();
      await failed;
    });
    await holding;
    const second = b.lease.withSenderFunds(CHAIN, [s2], () => Promise.resolve(order.push('b')));
    // b waits on a's lock of s2; other senders, and s1 on another chain, do not wait.
    for (;;) {
      const waiting = await pools[0].query<unknown[]>(
        `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      if (waiting.length > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await c.lease.withSenderFunds(CHAIN, [s3], () => Promise.resolve(order.push('c: other sender')));
    await c.lease.withSenderFunds(CHAIN + 1n, [s1], () => Promise.resolve(order.push('c: other chain')));
    expect(order).toEqual(['c: other sender', 'c: other chain']);

    fail();
    await expect(first).rejects.toThrow('check failed');
    await second;
    // a's locks went with its failed check: both senders are free again.
    await c.lease.withSenderFunds(CHAIN, [s1, s2], () => Promise.resolve(order.push('c: after a')));
    expect(order).toEqual(['c: other sender', 'c: other chain', 'b', 'c: after a']);
  });

  it('releases the funds locks of a check that runs past its bound, and never lets that check claim afterwards', async () => {
    const s1 = address();
    const a = await redeemer();
    const b = await redeemer();
    let answer!: () => void;
    const chainRead = new Promise<void>((r) => (answer = r));
    let claimed = false;
    let late: Promise<unknown> | undefined;
    const stuck = a.lease.withSenderFunds(
      CHAIN,
      [s1],
      async (commit) => {
        await chainRead;
        // What the late commit answers, caught here (the caller gave up on this check).
        late = commit(() => Promise.resolve((claimed = true))).catch((err: unknown) => err);
        return late;
      },
      200,
    );
    await expect(stuck).rejects.toBeInstanceOf(SenderFundsTimeout);
    // The lock went with the bound: b's check of the sender runs at once.
    expect(
      await b.lease.withSenderFunds(CHAIN, [s1], (commit) => commit(() => Promise.resolve('b')), 200),
    ).toBe('b');
    answer();
    expect(await eventuallyDefined(() => late)).toBeInstanceOf(SenderFundsTimeout);
    expect(claimed).toBe(false);

    // A claim under way when the time runs out is waited for, and commits under the lock.
    let finish!: () => void;
    const claim = new Promise<void>((r) => (finish = r));
    const slow = a.lease.withSenderFunds(CHAIN, [s1], (commit) => commit(() => claim.then(() => 'a')), 100);
    await new Promise((r) => setTimeout(r, 300));
    finish();
    expect(await slow).toBe('a');
  });

  it('gives up waiting for funds locks another Redeemer holds past the bound, and keeps none of them', async () => {
    const held = address();
    const others = Array.from({ length: 8 }, () => address());
    const a = await redeemer();
    const b = await redeemer();
    // a stops answering while it holds `held` (a frozen process keeps its session, and the lock).
    let thaw!: () => void;
    const frozen = new Promise<void>((r) => (thaw = r));
    let holding!: () => void;
    const taken = new Promise<void>((r) => (holding = r));
    const stuck = a.lease.withSenderFunds(CHAIN, [held], async () => {
      holding();
      await frozen;
    });
    await taken;

    let ran = false;
    const started = Date.now();
    await expect(
      b.lease.withSenderFunds(CHAIN, [held, ...others], () => Promise.resolve((ran = true)), 300),
    ).rejects.toBeInstanceOf(SenderFundsTimeout);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(ran).toBe(false);
    // The senders locked before the wait (key order) went back: another check takes them at once.
    const c = await redeemer();
    expect(await c.lease.withSenderFunds(CHAIN, others, () => Promise.resolve('c'), 300)).toBe('c');
    // And b checks again normally once a lets go.
    thaw();
    await stuck;
    expect(await b.lease.withSenderFunds(CHAIN, [held, ...others], () => Promise.resolve('b'), 300)).toBe(
      'b',
    );
  });
});

async function eventuallyDefined<T>(get: () => T | undefined): Promise<T> {
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}
