import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BlockPace } from '#app/chain';
import {
  WinningTicketRepository,
  WinningTicketStatus,
  createDataSource,
  dataSourceOptions,
  type NewWinningTicket,
} from '#app/database';
import {
  QueueName,
  RedemptionReconciler,
  ENQUEUE_BACKLOG_MAX,
  ENQUEUE_WAIT_MS,
  WinningTicketIntake,
  connectRedemptionQueue,
  toWinningTicketRow,
  type IntakeResult,
  type RedeemTicketJob,
  type RedemptionQueueHandle,
} from '#app/queue';
import { bytesToHex, ticketHash, type SignedTicket } from '#app/ticket';
import { flushRedisPrefix } from '#app/testing';
import { startRedisFaultProxy } from '../../support/redis-fault-proxy.js';

/** INSERTs the intake sent, with their row counts: the real repository, watched. */
class WatchedRepository extends WinningTicketRepository {
  readonly inserts: number[] = [];

  override insertAllIfAbsent(
    tickets: readonly NewWinningTicket[],
    offers?: readonly number[],
  ): Promise<Set<string>> {
    this.inserts.push(tickets.length);
    return super.insertAllIfAbsent(tickets, offers);
  }
}

const sender = randomBytes(20);
let nonce = 0;

function winner(overrides: Partial<SignedTicket> = {}): SignedTicket {
  return {
    recipient: randomBytes(20),
    sender,
    faceValue: 1_000n,
    winProb: 1n << 255n,
    senderNonce: ++nonce,
    recipientRandHash: randomBytes(32),
    creationRound: 10n,
    creationRoundBlockHash: randomBytes(32),
    paramsExpirationBlock: 100n,
    sig: randomBytes(65),
    recipientRand: 7n,
    ...overrides,
  };
}

const hashOf = (t: SignedTicket) => bytesToHex(ticketHash(t));

/**
 * The intake's group commit against real Postgres and Redis: concurrent calls share one INSERT
 * and one bulk enqueue; each call returns only after its rows committed, with `stored` true for
 * exactly one caller of a ticket; a failed INSERT fails every call of its group and stores none
 * of their rows.
 */
describe('WinningTicketIntake group commit', () => {
  let ds: DataSource;
  let repo: WatchedRepository;
  let handle: RedemptionQueueHandle;
  let intake: WinningTicketIntake;
  let observer: pg.Pool;
  const prefix = `${inject('redisPrefix')}intake-group:`;

  beforeAll(async () => {
    ds = await createDataSource(inject('databaseUrl')).initialize();
    repo = new WatchedRepository(ds);
    handle = await connectRedemptionQueue(inject('redisUrl'), prefix, repo);
    intake = new WinningTicketIntake(repo, handle.queue, new RedemptionReconciler(repo, handle.queue));
    observer = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  });
  afterAll(async () => {
    await observer?.end();
    await handle?.close();
    await ds?.destroy();
    await flushRedisPrefix(inject('redisUrl'), prefix);
  });

  /** Rows another connection sees: what is committed. */
  const committed = async (hashes: readonly string[]) =>
    (
      await observer.query<{ ticket_hash: string }>(
        'SELECT ticket_hash FROM winning_ticket WHERE ticket_hash = ANY($1)',
        [hashes],
      )
    ).rows.length;

  it('starts a lone call at once, and coalesces the calls that arrive meanwhile into one INSERT', async () => {
    const before = repo.inserts.length;
    const lone = [winner(), winner()];
    const first = intake.acceptAll(lone);
    // No timer: the lone call's INSERT is already under way.
    expect(repo.inserts.length).toBe(before + 1);
    const payments = Array.from({ length: 12 }, () => [winner()]);
    const rest = payments.map((p) => intake.acceptAll(p));
    // Each call, when it returns, finds its rows committed (another connection sees them).
    const seenOnReturn = await Promise.all(
      [lone, ...payments].map(async (p, i) => {
        const results = await (i === 0 ? first : rest[i - 1]);
        expect(results.map((r) => r.ticketHash)).toEqual(p.map(hashOf));
        expect(results.every((r) => r.stored)).toBe(true);
        return committed(p.map(hashOf));
      }),
    );
    expect(seenOnReturn).toEqual([2, ...payments.map(() => 1)]);
    // The lone call alone, then the twelve that waited for it together.
    expect(repo.inserts.slice(before)).toEqual([2, 12]);
    for (const t of [...lone, ...payments.flat()]) {
      expect((await repo.findByHash(hashOf(t)))?.status).toBe(WinningTicketStatus.QUEUED);
      expect(await handle.queue.boardSource().getJob(hashOf(t))).toBeTruthy();
    }
  });

  it('stores every field of a ticket as it came', async () => {
    const t = winner({
      faceValue: (1n << 256n) - 1n,
      senderNonce: 2 ** 32 - 1,
      recipientRand: (1n << 255n) + 3n,
    });
    await intake.acceptAll([t]);
    const row = await repo.findByHash(hashOf(t));
    expect(row).toMatchObject({ ...toWinningTicketRow(t), status: WinningTicketStatus.QUEUED });
  });

  it('stores a ticket carried by two concurrent payments once: stored for exactly one of them', async () => {
    const shared = winner();
    const lone = intake.acceptAll([winner()]);
    // Same group (both wait for the lone call) and across groups (the lone call's and a later one).
    const calls = [
      intake.acceptAll([shared, winner()]),
      intake.acceptAll([winner(), shared]),
      intake.acceptAll([shared, shared]),
    ];
    await lone;
    const late = intake.acceptAll([shared]);
    const results: IntakeResult[][] = await Promise.all([...calls, late]);
    const storedFlags = results.flat().filter((r) => r.ticketHash === hashOf(shared));
    expect(storedFlags).toHaveLength(5);
    expect(storedFlags.filter((r) => r.stored)).toHaveLength(1);
    expect(results[0][0].stored).toBe(true);
    expect(await committed([hashOf(shared)])).toBe(1);
  });

  it("withdraws a refused payment's stored winner only if no other payment offered it", async () => {
    const [alone, retried, together, twice, claimed] = [winner(), winner(), winner(), winner(), winner()];
    // Stored by one payment, offered again by another (a retry) in a later group.
    await intake.acceptAll([alone, retried, twice, claimed]);
    await intake.acceptAll([retried]);
    // Carried by two payments of one group: one row, stored for one, offered by both.
    const lone = intake.acceptAll([winner()]);
    const pair = [intake.acceptAll([together]), intake.acceptAll([together])];
    await lone;
    await Promise.all(pair);
    // A payment carrying the same winner twice offers it once.
    await intake.acceptAll([twice, twice]);
    await ds.query(`UPDATE winning_ticket SET status = 'submitting' WHERE ticket_hash = $1`, [
      hashOf(claimed),
    ]);
    await intake.acceptAll([claimed]);

    const hashes = [alone, retried, together, claimed].map(hashOf);
    expect(await intake.withdraw(hashes)).toEqual([hashOf(alone)]);
    expect(await committed(hashes)).toBe(3);
    const offers = await ds.query<{ ticket_hash: string; offers: number }[]>(
      'SELECT ticket_hash, offers FROM winning_ticket WHERE ticket_hash = ANY($1)',
      [[...hashes, hashOf(twice)]],
    );
    expect(Object.fromEntries(offers.map((r) => [r.ticket_hash, r.offers]))).toEqual({
      [hashOf(retried)]: 2,
      [hashOf(together)]: 2,
      [hashOf(twice)]: 2,
      // Claimed by a redemption before the second offer: not counted (never withdrawn anyway).
      [hashOf(claimed)]: 1,
    });
  });

  it('fails every call of a group whose INSERT fails, storing none of their rows; the next group goes on', async () => {
    const lone = intake.acceptAll([winner()]);
    // Past int64: Postgres refuses the row, and with it the group's one statement.
    const poisoned = [[winner({ paramsExpirationBlock: 1n << 63n })], [winner()], [winner(), winner()]];
    const group = poisoned.map((p) => intake.acceptAll(p));
    const outcomes = await Promise.allSettled([lone, ...group]);
    expect(outcomes[0].status).toBe('fulfilled');
    expect(outcomes.slice(1).map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await committed(poisoned.flat().map(hashOf))).toBe(0);
    const after = [winner()];
    expect((await intake.acceptAll(after))[0].stored).toBe(true);
    expect(await committed(after.map(hashOf))).toBe(1);
  });

  /** An intake whose queue's Redis holds every reply until `release` (a stall), for `test`. */
  const withStalledRedis = async (
    test: (slow: WinningTicketIntake, release: () => void) => Promise<void>,
  ): Promise<void> => {
    const proxy = await startRedisFaultProxy(inject('redisUrl'));
    const stalled = await connectRedemptionQueue(proxy.url, prefix, repo);
    try {
      const slow = new WinningTicketIntake(
        repo,
        stalled.queue,
        new RedemptionReconciler(repo, stalled.queue),
      );
      await test(slow, proxy.holdReplies());
    } finally {
      await stalled.close();
      await proxy.stop();
    }
  };

  it('answers within ENQUEUE_WAIT_MS when Redis holds the enqueue back: stored, the job made once Redis answers', async () => {
    await withStalledRedis(async (slow, release) => {
      const t = winner();
      const started = Date.now();
      const [result] = await slow.acceptAll([t]);
      const waited = Date.now() - started;
      expect(result).toEqual({ ticketHash: hashOf(t), stored: true });
      expect(waited).toBeGreaterThanOrEqual(ENQUEUE_WAIT_MS - 50);
      expect(await committed([hashOf(t)])).toBe(1);
      // Redis answers again: the enqueue under way makes the job and marks the row queued.
      release();
      await expect
        .poll(async () => (await repo.findByHash(hashOf(t)))?.status, { timeout: 10_000 })
        .toBe(WinningTicketStatus.QUEUED);
      expect(await handle.queue.boardSource().getJob(hashOf(t))).toBeTruthy();
    });
  });

  it('offers no more jobs once ENQUEUE_BACKLOG_MAX wait for a stalled Redis: stored, answered at once, the reconciler makes the rest', async () => {
    await withStalledRedis(async (slow, release) => {
      // The first call's enqueue is held by Redis; calls of 500 then queue behind it up to the bound.
      const first = [winner()];
      await slow.acceptAll(first);
      const fill = Array.from({ length: ENQUEUE_BACKLOG_MAX / 500 }, () =>
        Array.from({ length: 500 }, () => winner()),
      );
      await Promise.all(fill.map((p) => slow.acceptAll(p)));
      const recipient = randomBytes(20);
      const over = [winner({ recipient }), winner({ recipient })];
      const started = Date.now();
      const results = await slow.acceptAll(over);
      // Not held for ENQUEUE_WAIT_MS: nothing of it waits for Redis.
      expect(Date.now() - started).toBeLessThan(ENQUEUE_WAIT_MS);
      expect(results.every((r) => r.stored)).toBe(true);
      expect(await committed(over.map(hashOf))).toBe(2);
      release();
      // Redis answers: what waited is enqueued; the tickets over the bound were never offered.
      const lastFill = fill[fill.length - 1];
      await expect
        .poll(async () => (await repo.findByHash(hashOf(lastFill[499])))?.status, { timeout: 20_000 })
        .toBe(WinningTicketStatus.QUEUED);
      for (const t of over) {
        expect((await repo.findByHash(hashOf(t)))?.status).toBe(WinningTicketStatus.RECEIVED);
        expect(await handle.queue.boardSource().getJob(hashOf(t))).toBeFalsy();
      }
      // A reconciler pass makes their jobs.
      const reconciler = new RedemptionReconciler(repo, handle.queue);
      reconciler.start({ recipients: () => [bytesToHex(recipient)], limit: 10, intervalMs: 3_600_000 });
      expect(await reconciler.reconcile()).toBe(2);
      await reconciler.stop();
      for (const t of over) {
        expect(await handle.queue.boardSource().getJob(hashOf(t))).toBeTruthy();
      }
    });
  }, 60_000);

  it('bounds a group: 1,200 waiting rows go in INSERTs of at most 500', async () => {
    const before = repo.inserts.length;
    const lone = intake.acceptAll([winner()]);
    const payments = Array.from({ length: 12 }, () => Array.from({ length: 100 }, () => winner()));
    const results = await Promise.all([lone, ...payments.map((p) => intake.acceptAll(p))]);
    expect(results.flat().every((r) => r.stored)).toBe(true);
    expect(repo.inserts.slice(before)).toEqual([1, 500, 500, 200]);
    expect(await committed(payments.flat().map(hashOf))).toBe(1_200);
  });
});

/**
 * A new job's first run waits until its params are due to have expired by the process's block
 * pace (so the Redeemer's first run usually redeems); at once while no pace is known, or when they
 * have expired already.
 */
describe('WinningTicketIntake first run', () => {
  let ds: DataSource;
  let repo: WinningTicketRepository;
  const pace = new BlockPace();
  const handles: RedemptionQueueHandle[] = [];
  const prefix = `${inject('redisPrefix')}intake-first-run:`;

  const intakeWith = async (withPace?: BlockPace) => {
    const handle = await connectRedemptionQueue(inject('redisUrl'), prefix, repo, withPace);
    handles.push(handle);
    return {
      handle,
      intake: new WinningTicketIntake(repo, handle.queue, new RedemptionReconciler(repo, handle.queue)),
      job: async (t: SignedTicket) => {
        const job = await handle.queue.boardSource().getJob(hashOf(t));
        return { state: await job?.getState(), delay: job?.delay ?? 0 };
      },
    };
  };

  beforeAll(async () => {
    ds = await createDataSource(inject('databaseUrl')).initialize();
    repo = new WinningTicketRepository(ds);
    // L1 block 1000 seen now, one block a second before it.
    pace.observe(990n, Date.now() - 10_000);
    pace.observe(1_000n, Date.now());
  });
  afterAll(async () => {
    for (const h of handles) await h.close();
    await ds?.destroy();
    await flushRedisPrefix(inject('redisUrl'), prefix);
  });

  it('delays it until the params are due to have expired, and marks the row queued', async () => {
    const { intake, job } = await intakeWith(pace);
    const t = winner({ paramsExpirationBlock: 1_020n });
    await intake.accept(t);
    const { state, delay } = await job(t);
    expect(state).toBe('delayed');
    // Block 1021 (expiry + the default margin) is ~21 s away at one block a second, plus half a block of slack.
    expect(delay).toBeGreaterThan(15_000);
    expect(delay).toBeLessThanOrEqual(21_500);
    expect((await repo.findByHash(hashOf(t)))?.status).toBe(WinningTicketStatus.QUEUED);
  });

  it("stores the accepting Recipient's reveal block and times the first run for it", async () => {
    const handle = await connectRedemptionQueue(inject('redisUrl'), prefix, repo, pace);
    handles.push(handle);
    const intake = new WinningTicketIntake(repo, handle.queue, new RedemptionReconciler(repo, handle.queue), {
      recipients: [],
      reconcileIntervalMs: 3_600_000,
      revealMarginBlocks: 11,
    });
    const t = winner({ paramsExpirationBlock: 1_020n });
    await intake.accept(t);
    expect((await repo.findByHash(hashOf(t)))?.revealBlock).toBe(1_031n);
    const job = await handle.queue.boardSource().getJob(hashOf(t));
    // Block 1031 is ~31 s away at one block a second (the margin of 1 would make it ~21 s).
    expect(job?.delay).toBeGreaterThan(25_000);
    expect(job?.delay).toBeLessThanOrEqual(31_500);
    // Re-created by a reconciler, the job waits for the stored block too.
    await handle.queue.boardSource().remove(hashOf(t));
    const reconciler = new RedemptionReconciler(repo, handle.queue);
    reconciler.start({ recipients: () => [bytesToHex(t.recipient)], limit: 10, intervalMs: 3_600_000 });
    expect(await reconciler.reconcile()).toBe(1);
    await reconciler.stop();
    expect((await handle.queue.boardSource().getJob(hashOf(t)))?.delay).toBeGreaterThan(25_000);
  });

  it('stores no reveal block without a margin (the Redeemer applies its own)', async () => {
    const { intake } = await intakeWith(pace);
    const t = winner({ paramsExpirationBlock: 1_020n });
    await intake.accept(t);
    expect((await repo.findByHash(hashOf(t)))?.revealBlock).toBeNull();
  });

  it('runs it at once when the params have expired already', async () => {
    const { intake, job } = await intakeWith(pace);
    const t = winner({ paramsExpirationBlock: 900n });
    await intake.accept(t);
    expect(await job(t)).toEqual({ state: 'prioritized', delay: 0 });
  });

  it('gives a job the reconciler re-creates (it was lost) the same first-run delay', async () => {
    const { intake, job, handle } = await intakeWith(pace);
    const t = winner({ paramsExpirationBlock: 1_020n });
    await intake.accept(t);
    await handle.queue.boardSource().remove(hashOf(t));
    expect((await job(t)).state).toBeUndefined();

    const reconciler = new RedemptionReconciler(repo, handle.queue);
    reconciler.start({ recipients: () => [bytesToHex(t.recipient)], limit: 10, intervalMs: 60_000 });
    expect(await reconciler.reconcile()).toBe(1);
    await reconciler.stop();
    const { state, delay } = await job(t);
    expect(state).toBe('delayed');
    expect(delay).toBeGreaterThan(15_000);
    expect(delay).toBeLessThanOrEqual(21_500);
  });

  it('works a backlog larger than a pass off page by page, the rows of one INSERT included', async () => {
    const { intake, job, handle } = await intakeWith(pace);
    const recipient = randomBytes(20);
    const tickets = Array.from({ length: 5 }, () => winner({ recipient, paramsExpirationBlock: 1_020n }));
    // One INSERT: the five rows share created_at, which pages must not start over inside.
    await intake.acceptAll(tickets);
    for (const t of tickets) await handle.queue.boardSource().remove(hashOf(t));

    const reconciler = new RedemptionReconciler(repo, handle.queue);
    reconciler.start({ recipients: () => [bytesToHex(recipient)], limit: 2, intervalMs: 3_600_000 });
    const passes = [];
    for (let i = 0; i < 4; i++) passes.push(await reconciler.reconcile());
    await reconciler.stop();
    expect(passes).toEqual([2, 2, 1, 0]);
    for (const t of tickets) expect((await job(t)).state).toBe('delayed');
  });

  it('goes on past a ticket whose job cannot be checked, and looks at it again on a later pass', async () => {
    const { intake, job, handle } = await intakeWith(pace);
    const recipient = randomBytes(20);
    const tickets = Array.from({ length: 3 }, () => winner({ recipient, paramsExpirationBlock: 1_020n }));
    await intake.acceptAll(tickets);
    for (const t of tickets) await handle.queue.boardSource().remove(hashOf(t));
    // The first ticket's check fails every time (a fault of that ticket alone).
    const ensureDue = handle.queue.ensureDue.bind(handle.queue);
    let broken = true;
    handle.queue.ensureDue = (ticket, options) =>
      broken && ticket.ticketHash === hashOf(tickets[0])
        ? Promise.reject(new Error('refused for this ticket'))
        : ensureDue(ticket, options);
    const reconciler = new RedemptionReconciler(repo, handle.queue);
    reconciler.start({ recipients: () => [bytesToHex(recipient)], limit: 10, intervalMs: 3_600_000 });
    try {
      expect(await reconciler.reconcile()).toBe(2);
      for (const t of tickets.slice(1)) expect((await job(t)).state).toBe('delayed');
      broken = false;
      expect(await reconciler.reconcile()).toBe(1);
      expect((await job(tickets[0])).state).toBe('delayed');
    } finally {
      await reconciler.stop();
      handle.queue.ensureDue = ensureDue;
    }
  });

  it('redeem now makes the job due whoever asks: promoted from its delay, re-created when lost, else left', async () => {
    const { intake, job, handle } = await intakeWith(pace);
    const t = winner({ paramsExpirationBlock: 1_020n });
    await intake.accept(t);
    const row = (await repo.findByHash(hashOf(t)))!;
    const ticket = {
      ticketHash: row.ticketHash,
      sender: row.sender,
      creationRound: row.creationRound,
      status: row.status,
    };
    expect((await job(t)).state).toBe('delayed');
    expect(await handle.queue.redeemNow(ticket)).toBe('promoted');
    expect(await job(t)).toEqual({ state: 'prioritized', delay: 0 });
    expect(await handle.queue.redeemNow(ticket)).toBe('unchanged');
    await handle.queue.boardSource().remove(hashOf(t));
    // Re-created due at once, not after the params' expiry as the reconciler would.
    expect(await handle.queue.redeemNow(ticket)).toBe('enqueued');
    expect(await job(t)).toEqual({ state: 'prioritized', delay: 0 });
  });

  it('runs it at once while the pace is unknown', async () => {
    const { intake, job } = await intakeWith(new BlockPace());
    const t = winner({ paramsExpirationBlock: 1_020n });
    await intake.accept(t);
    expect(await job(t)).toEqual({ state: 'prioritized', delay: 0 });
  });
});

describe('redemption job order', () => {
  let ds: DataSource;
  let repo: WinningTicketRepository;
  let handle: RedemptionQueueHandle;
  const prefix = `${inject('redisPrefix')}intake-order:`;

  beforeAll(async () => {
    ds = await createDataSource(inject('databaseUrl')).initialize();
    repo = new WinningTicketRepository(ds);
    handle = await connectRedemptionQueue(inject('redisUrl'), prefix, repo);
  });
  afterAll(async () => {
    await handle?.close();
    await ds?.destroy();
    await flushRedisPrefix(inject('redisUrl'), prefix);
  });

  it('runs the oldest creation round first, also one that came back from a wait behind newer ones', async () => {
    const intake = new WinningTicketIntake(repo, handle.queue, new RedemptionReconciler(repo, handle.queue));
    const queue = handle.queue.boardSource();
    // Arrival order: rounds 12, 11, 12, 10 (the params expired: due at once).
    const tickets = [12n, 11n, 12n, 10n].map((creationRound) =>
      winner({ creationRound, paramsExpirationBlock: 0n }),
    );
    for (const t of tickets) await intake.accept(t);
    // An older ticket whose job slept (a wait) and is due again after all of them.
    const back = winner({ creationRound: 9n });
    await handle.queue.enqueue(
      { ticketHash: hashOf(back), sender: bytesToHex(sender), creationRound: 9n },
      60_000,
    );
    const job = await queue.getJob(hashOf(back));
    expect(await job!.getState()).toBe('delayed');
    await job!.promote();

    const order: string[] = [];
    const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const worker = new Worker<RedeemTicketJob>(
      QueueName.TICKET_REDEMPTION,
      (j) => Promise.resolve(void order.push(j.id!)),
      {
        connection,
        prefix: queue.opts.prefix,
        concurrency: 1,
      },
    );
    try {
      for (let i = 0; i < 200 && order.length < 5; i++) await new Promise((r) => setTimeout(r, 25));
    } finally {
      await worker.close();
      connection.disconnect();
    }
    expect(order).toEqual([back, tickets[3], tickets[1], tickets[0], tickets[2]].map(hashOf));
  });
});

describe('WinningTicketRepository.queueAll', () => {
  let ds: DataSource;

  beforeAll(async () => {
    // One connection: the statement after queueAll runs on the connection queueAll used.
    ds = await new DataSource({
      ...dataSourceOptions(inject('databaseUrl')),
      extra: { max: 1 },
    }).initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
  });

  it('moves received rows to queued without waiting for the flush, and leaves the connection flushing', async () => {
    const repo = new WinningTicketRepository(ds);
    const rows = [winner(), winner()].map(toWinningTicketRow);
    await repo.insertAllIfAbsent(rows);
    const hashes = rows.map((r) => r.ticketHash);
    expect((await repo.queueAll(hashes)).sort()).toEqual([...hashes].sort());
    expect(await repo.queueAll(hashes)).toEqual([]);
    for (const h of hashes) expect((await repo.findByHash(h))?.status).toBe(WinningTicketStatus.QUEUED);
    const [{ synchronous_commit: setting }] =
      await ds.query<{ synchronous_commit: string }[]>('SHOW synchronous_commit');
    expect(setting).toBe('on');
  });
});
