import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import {
  MOVES,
  RedemptionStats,
  PendingFaceValue,
  SenderFundsTimeout,
  PgTxStore,
  RedemptionRepository,
  WinningTicketEntity,
  WinningTicketRepository,
  WinningTicketStatus,
  createDataSource,
  type NewWinningTicket,
} from '#app/database';
import { hex, insertTx, newTicket, submittedTicket } from './database-fixture.js';

const S = WinningTicketStatus;

/** Every named move of the repository against real Postgres: compare-and-set, from the table's statuses only. */
describe('WinningTicketRepository moves', () => {
  let ds: DataSource;
  let repo: WinningTicketRepository;

  beforeAll(async () => {
    ds = await createDataSource(inject('databaseUrl')).initialize();
    repo = new WinningTicketRepository(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
  });

  async function stored(status: WinningTicketStatus, overrides: Partial<NewWinningTicket> = {}) {
    const t = newTicket(overrides);
    expect(await repo.insertIfAbsent(t)).toBe(true);
    const path: Record<WinningTicketStatus, (() => Promise<boolean>)[]> = {
      [S.RECEIVED]: [],
      [S.QUEUED]: [() => repo.queue(t.ticketHash)],
      [S.SUBMITTING]: [() => repo.queue(t.ticketHash), () => repo.claim(t.ticketHash)],
      [S.SUBMITTED]: [
        () => repo.queue(t.ticketHash),
        () => repo.claim(t.ticketHash),
        () => repo.markSubmitted(t.ticketHash, hex(32)),
      ],
      [S.REDEEMED]: [],
      [S.FAILED]: [],
      [S.EXPIRED]: [],
    };
    for (const step of path[status]) expect(await step()).toBe(true);
    return t.ticketHash;
  }

  const statusOf = async (hash: string) => (await repo.findByHash(hash))?.status;

  it('reads a row (findByHash, findByHashes) exactly as TypeORM maps the entity, every column', async () => {
    const big = newTicket({
      faceValue: (1n << 255n) + 3n,
      recipientRand: (1n << 256n) - 1n,
      senderNonce: 2n ** 62n,
    });
    await repo.insertIfAbsent(big);
    await repo.queue(big.ticketHash);
    await repo.note(big.ticketHash, 'PARAMS_NOT_EXPIRED');
    const other = await stored(S.SUBMITTED);
    const typeorm = ds.getRepository(WinningTicketEntity);
    for (const hash of [big.ticketHash, other]) {
      const expected = await typeorm.findOneByOrFail({ ticketHash: hash });
      expect(await repo.findByHash(hash)).toStrictEqual(expected);
      expect(Object.keys(expected).sort()).toEqual(
        ds
          .getMetadata(WinningTicketEntity)
          .columns.map((c) => c.propertyName)
          .sort(),
      );
    }
    const both = await repo.findByHashes([big.ticketHash, other, hex(32)]);
    expect(both.map((r) => r.ticketHash).sort()).toEqual([big.ticketHash, other].sort());
    expect(await repo.findByHash(hex(32))).toBeNull();
    expect(await repo.findByHashes([])).toEqual([]);
  });

  it('answers concurrent findByHash calls from shared SELECTs: each its own row (or null), writes before it seen', async () => {
    const hashes = [await stored(S.QUEUED), await stored(S.SUBMITTED), await stored(S.RECEIVED)];
    const missing = hex(32);
    const selects: string[] = [];
    const query = ds.query.bind(ds);
    ds.query = ((sql: string, params?: unknown[]) => {
      if (sql.includes('FROM winning_ticket WHERE ticket_hash')) selects.push(sql);
      return query(sql, params);
    }) as typeof ds.query;
    try {
      const asked = [...hashes, missing, hashes[0], ...hashes];
      const rows = await Promise.all(asked.map((h) => repo.findByHash(h)));
      expect(rows.map((r) => r?.ticketHash ?? null)).toEqual(asked.map((h) => (h === missing ? null : h)));
      expect(rows.map((r) => r?.status ?? null)).toEqual(
        asked.map(
          (h) => ({ [hashes[0]]: S.QUEUED, [hashes[1]]: S.SUBMITTED, [hashes[2]]: S.RECEIVED })[h] ?? null,
        ),
      );
      // A lone first call, then everyone who asked while it ran.
      expect(selects).toHaveLength(2);
      // The same row twice is two objects: a caller may change its own.
      expect(rows[5]).not.toBe(rows[4]);
      expect(rows[5]).toStrictEqual(rows[4]);
      // A call made after a write sees it.
      await repo.claim(hashes[0]);
      expect((await repo.findByHash(hashes[0]))?.status).toBe(S.SUBMITTING);
    } finally {
      ds.query = query;
    }
  });

  it('inserts a ticket once, as received', async () => {
    const t = newTicket();
    expect(await repo.insertIfAbsent(t)).toBe(true);
    expect(await repo.insertIfAbsent(t)).toBe(false);
    expect(await statusOf(t.ticketHash)).toBe(S.RECEIVED);
  });

  it('walks received → queued → submitting → submitted → redeemed', async () => {
    const hash = await stored(S.RECEIVED);
    expect(await repo.queue(hash)).toBe(true);
    expect(await repo.claim(hash)).toBe(true);
    const txHash = hex(32);
    expect(await repo.markSubmitted(hash, txHash)).toBe(true);
    const mined = hex(32);
    expect(await repo.settle(hash, { status: S.REDEEMED, txHash: mined, statusReason: null })).toBe(true);
    const row = await repo.findByHash(hash);
    expect(row).toMatchObject({ status: S.REDEEMED, txHash: mined, statusReason: null });
  });

  it('moves only from the statuses of the move (compare-and-set), and never out of a final status', async () => {
    const received = await stored(S.RECEIVED);
    expect(await repo.claim(received)).toBe(false);
    expect(await repo.note(received, 'X')).toBe(false);
    expect(await repo.finalize(received, S.FAILED, 'X')).toBe(false);
    expect(await repo.settle(received, { status: S.FAILED, statusReason: 'X' })).toBe(false);
    expect(await statusOf(received)).toBe(S.RECEIVED);

    const queued = await stored(S.QUEUED);
    expect(await repo.queue(queued)).toBe(false);
    expect(await repo.markSubmitted(queued, hex(32))).toBe(false);
    expect(await repo.requeue(queued, 'X')).toBe(false);
    expect(await repo.claim(queued)).toBe(true);
    // A second claimer loses: a ticket is in at most one tx.
    expect(await repo.claim(queued)).toBe(false);

    const final = await stored(S.QUEUED);
    expect(await repo.finalize(final, S.EXPIRED, 'TICKET_EXPIRED')).toBe(true);
    for (const move of [
      () => repo.queue(final),
      () => repo.note(final, 'X'),
      () => repo.claim(final),
      () => repo.requeue(final, 'X'),
      () => repo.settle(final, { status: S.FAILED, statusReason: 'X' }),
      () => repo.finalize(final, S.FAILED, 'X'),
    ]) {
      expect(await move()).toBe(false);
    }
    expect(await repo.findByHash(final)).toMatchObject({ status: S.EXPIRED, statusReason: 'TICKET_EXPIRED' });
  });

  it('unclaims only a submitting ticket; requeues submitting and submitted ones', async () => {
    const submitting = await stored(S.SUBMITTING);
    expect(await repo.unclaim(submitting, 'CHAIN_ERROR')).toBe(true);
    expect(await repo.findByHash(submitting)).toMatchObject({
      status: S.QUEUED,
      statusReason: 'CHAIN_ERROR',
    });

    const submitted = await stored(S.SUBMITTED);
    expect(await repo.unclaim(submitted, 'CHAIN_ERROR')).toBe(false);
    expect(await repo.requeue(submitted, 'TX_DROPPED')).toBe(true);
    expect(await repo.findByHash(submitted)).toMatchObject({ status: S.QUEUED, statusReason: 'TX_DROPPED' });
  });

  it('settles a ticket in a tx as failed, notes a queued one without moving it', async () => {
    const inTx = await stored(S.SUBMITTED);
    expect(await repo.settle(inTx, { status: S.FAILED, statusReason: 'TICKET_USED' })).toBe(true);
    expect(await statusOf(inTx)).toBe(S.FAILED);

    const queued = await stored(S.QUEUED);
    expect(await repo.note(queued, 'GAS_PRICE_TOO_HIGH')).toBe(true);
    expect(await repo.findByHash(queued)).toMatchObject({
      status: S.QUEUED,
      statusReason: 'GAS_PRICE_TOO_HIGH',
    });
  });

  it("bounds a claim's wait for rows another transaction holds: past it, SenderFundsTimeout and nothing claimed", async () => {
    const held = await stored(S.QUEUED);
    const free = await stored(S.QUEUED);
    const other = ds.createQueryRunner();
    await other.connect();
    await other.startTransaction();
    try {
      await other.query('SELECT 1 FROM winning_ticket WHERE ticket_hash = $1 FOR UPDATE', [held]);
      await expect(repo.claimAll([free, held], 200)).rejects.toBeInstanceOf(SenderFundsTimeout);
      // One statement: the free row is not claimed either.
      expect(await statusOf(free)).toBe(S.QUEUED);
    } finally {
      await other.rollbackTransaction();
      await other.release();
    }
    expect((await repo.claimAll([free, held], 200)).sort()).toEqual([free, held].sort());
    expect(await statusOf(held)).toBe(S.SUBMITTING);
  });

  it('refuses a target its move does not have', async () => {
    const queued = await stored(S.QUEUED);
    await expect(repo.finalize(queued, S.REDEEMED as unknown as typeof S.FAILED, 'X')).rejects.toThrow(
      /finalize cannot end in redeemed/,
    );
    expect(MOVES.finalize.to).not.toContain(S.REDEEMED);
    expect(await statusOf(queued)).toBe(S.QUEUED);
  });

  it("lists senders' tickets in a tx (submitting, submitted) over every recipient, face values exact", async () => {
    const sender = hex(20);
    const [one, other] = [hex(20), hex(20)];
    const big = (1n << 255n) + 3n;
    const claimed = await stored(S.SUBMITTING, { sender, recipient: one, faceValue: big });
    const sent = await stored(S.SUBMITTED, { sender, recipient: other, faceValue: 7n });
    await stored(S.QUEUED, { sender });
    await stored(S.SUBMITTED);

    const inTx = await repo.inTx([sender]);
    expect(inTx.sort((x, y) => (x.faceValue < y.faceValue ? -1 : 1))).toEqual([
      { ticketHash: sent, sender, recipient: other, faceValue: 7n },
      { ticketHash: claimed, sender, recipient: one, faceValue: big },
    ]);
    expect(await repo.inTx([])).toEqual([]);
  });

  it('lists open tickets oldest first, by recipient and status; sums what is pending', async () => {
    const recipient = hex(20);
    const sender = hex(20);
    const a = await stored(S.RECEIVED, { recipient, sender, faceValue: 5n });
    const b = await stored(S.SUBMITTED, { recipient, sender, faceValue: 7n });
    const c = await stored(S.QUEUED, { recipient, sender, faceValue: 11n });
    expect(await repo.finalize(c, S.FAILED, 'X')).toBe(true);

    const open = await repo.openTickets([recipient], 10);
    expect(open.map((t) => t.ticketHash)).toEqual([a, b]);
    expect(open[1]).toEqual({
      ticketHash: b,
      sender,
      status: S.SUBMITTED,
      creationRound: 10n,
      paramsExpirationBlock: 100n,
      revealBlock: null,
      storedAt: open[1].storedAt,
    });
    // To the microsecond, as Postgres prints it.
    expect(open[1].storedAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?[+-]\d\d/);
    // Page by page: after a ticket, the ones stored after it (the reconciler's cursor).
    expect((await repo.openTickets([recipient], 1, undefined, open[0])).map((t) => t.ticketHash)).toEqual([
      b,
    ]);
    expect(await repo.openTickets([recipient], 10, undefined, open[1])).toEqual([]);
    expect((await repo.openTickets([recipient], 10, [S.RECEIVED])).map((t) => t.ticketHash)).toEqual([a]);
    expect(await repo.openTickets([recipient], 1)).toHaveLength(1);

    const pending = new PendingFaceValue(ds);
    expect(await pending.ofSenderTo(sender, recipient)).toEqual({ pending: 12n, pendingTotal: 12n });
    const other = hex(20);
    await stored(S.QUEUED, { recipient: other, sender, faceValue: 100n });
    expect(await pending.ofSenderTo(sender, recipient)).toEqual({ pending: 12n, pendingTotal: 112n });
    expect(await pending.ofSenderTo(sender, other)).toEqual({ pending: 100n, pendingTotal: 112n });
    expect(
      (await pending.bySenderAndRecipient([sender])).sort((x, y) => (x.pending < y.pending ? -1 : 1)),
    ).toEqual([
      { sender, recipient, pending: 12n },
      { sender, recipient: other, pending: 100n },
    ]);
    expect(await new RedemptionStats(ds).countByStatus([recipient])).toEqual({
      [S.RECEIVED]: 1,
      [S.SUBMITTED]: 1,
      [S.FAILED]: 1,
    });
  });
});

/** What a settlement writes for a batch tx: one statement each, whatever the batch size. */
describe('settling a batch tx', () => {
  let ds: DataSource;
  let repo: WinningTicketRepository;
  let store: PgTxStore;
  let redemptions: RedemptionRepository;

  beforeAll(async () => {
    ds = await createDataSource(inject('databaseUrl')).initialize();
    repo = new WinningTicketRepository(ds);
    store = new PgTxStore(ds);
    redemptions = new RedemptionRepository(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
  });

  const submitted = () => submittedTicket(repo);

  const signer = hex(20);
  let nonce = 0n;
  const storeTx = (refs: string[]) => insertTx(store, { signer, nonce: nonce++, refs });

  /** Runs `fn` and counts the SQL statements it sent. */
  async function counted<T>(fn: () => Promise<T>): Promise<[T, number]> {
    const original = ds.createQueryRunner.bind(ds);
    let statements = 0;
    ds.createQueryRunner = (mode) => {
      const runner = original(mode);
      const query = runner.query.bind(runner);
      runner.query = ((...args: Parameters<typeof query>) => {
        statements++;
        return query(...args);
      }) as typeof runner.query;
      return runner;
    };
    try {
      return [await fn(), statements];
    } finally {
      ds.createQueryRunner = original;
    }
  }

  it("finds each ticket's newest tx, moves the redeemed ones and records them in three statements", async () => {
    const hashes: string[] = [];
    for (let i = 0; i < 50; i++) hashes.push(await submitted());
    const older = await storeTx(hashes);
    // The last ticket went into a newer tx since: only that one may decide it.
    const newer = await storeTx([hashes[49]]);
    const unknown = hex(32);

    const [newest, reads] = await counted(() => store.latestIdsByRefs([...hashes, unknown]));
    expect(reads).toBe(1);
    expect(newest.size).toBe(50);
    expect(newest.get(hashes[0])).toBe(older.id);
    expect(newest.get(hashes[49])).toBe(newer.id);
    expect(newest.has(unknown)).toBe(false);

    const mine = hashes.filter((h) => newest.get(h) === older.id);
    const [moved, moves] = await counted(() =>
      repo.settleAll(mine, { status: S.REDEEMED, txHash: hex(32), statusReason: null }),
    );
    expect(moves).toBe(1);
    expect(moved.sort()).toEqual([...mine].sort());
    // Compare-and-set: settled once only.
    expect(await repo.settleAll(mine, { status: S.REDEEMED, txHash: hex(32), statusReason: null })).toEqual(
      [],
    );

    const [, inserts] = await counted(() =>
      redemptions.recordRedeemedAll(
        mine.map((ticketHash, i) => ({ ticketHash, amountPaid: 1_000n + BigInt(i) })),
        older.id,
      ),
    );
    expect(inserts).toBe(1);
    const rows = await ds.query<{ ticket_hash: string; chain_tx_id: string; amount_paid: string }[]>(
      `SELECT ticket_hash, chain_tx_id, amount_paid FROM redemption WHERE ticket_hash = ANY($1::text[])`,
      [hashes],
    );
    expect(rows).toHaveLength(49);
    for (const r of rows) {
      expect(r.chain_tx_id).toBe(older.id);
      expect(BigInt(r.amount_paid)).toBe(1_000n + BigInt(mine.indexOf(r.ticket_hash)));
    }
    expect((await repo.findByHash(hashes[49]))?.status).toBe(S.SUBMITTED);
  });
});

/**
 * Two processes (two connection pools) storing the same winners at once, as two Recipient replicas
 * do when a payment is retried at the other: in either order, no INSERT fails (neither on the
 * signature's unique index nor by deadlock), each ticket is inserted by exactly one call, and
 * every call's offer is counted.
 */
describe('insertAllIfAbsent from two processes at once', () => {
  let a: DataSource;
  let b: DataSource;

  beforeAll(async () => {
    a = await createDataSource(inject('databaseUrl')).initialize();
    b = await createDataSource(inject('databaseUrl')).initialize();
  });
  afterAll(async () => {
    await a?.destroy();
    await b?.destroy();
  });

  it('stores each ticket once and fails no call, whatever the order of the rows', async () => {
    const [ra, rb] = [new WinningTicketRepository(a), new WinningTicketRepository(b)];
    for (let round = 0; round < 50; round++) {
      const rows = Array.from({ length: 50 }, () => newTicket());
      const calls = await Promise.all([
        ra.insertAllIfAbsent(rows),
        rb.insertAllIfAbsent([...rows].reverse()),
        ra.insertAllIfAbsent(rows),
      ]);
      expect(calls.reduce((n, inserted) => n + inserted.size, 0)).toBe(rows.length);
      expect(new Set(calls.flatMap((inserted) => [...inserted]))).toEqual(
        new Set(rows.map((r) => r.ticketHash)),
      );
      const offers = await a.query<{ offers: number }[]>(
        'SELECT offers FROM winning_ticket WHERE ticket_hash = ANY($1)',
        [rows.map((r) => r.ticketHash)],
      );
      expect(offers.map((r) => r.offers)).toEqual(rows.map(() => 3));
      // Gone again: 2,500 unclaimed rows left in the shared database would be every other file's
      // intake reconciler's to re-enqueue (the Recipient's close then waits on those passes).
      await a.query('DELETE FROM winning_ticket WHERE ticket_hash = ANY($1)', [
        rows.map((r) => r.ticketHash),
      ]);
    }
  });
});
