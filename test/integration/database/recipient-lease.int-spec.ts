import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SignerLease, createDataSource } from '#app/database';
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
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
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
});
