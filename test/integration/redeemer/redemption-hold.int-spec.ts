import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  JobName,
  QUEUE_DEFAULTS,
  QueueName,
  RedemptionWorker,
  bullPrefix,
  type RedeemTicketJob,
  type RedemptionJobResult,
} from '#app/queue';
import { flushRedisPrefix } from '#app/testing';
import { TEST_REDIS_URL } from '../../support/test-servers.js';

const HOLD_MS = 1_500;

/**
 * A wait that holds every ticket alike (the chain's round ending, or not initialized) stops the
 * worker taking jobs until it ends: at a round's end the backlog is not fetched, judged and parked
 * again one job at a time. Jobs running go on; the owner's pause and start override the hold.
 */
describe('redemption worker hold on a round wait', () => {
  const prefix = bullPrefix(`${inject('redisPrefix')}redemption-hold:`);
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue<RedeemTicketJob>(QueueName.TICKET_REDEMPTION, { connection, prefix });
  const runs: { hash: string; at: number }[] = [];
  const answers = new Map<string, RedemptionJobResult>();
  const redemption = new RedemptionWorker({
    process: (hash) => {
      runs.push({ hash, at: Date.now() });
      return Promise.resolve(answers.get(hash) ?? { kind: 'done', status: 'redeemed' });
    },
  });
  const worker = new Worker<RedeemTicketJob>(
    QueueName.TICKET_REDEMPTION,
    (job, token) => redemption.process(job, token),
    { connection, prefix, concurrency: 1, autorun: false },
  );
  // The BullMQ worker the Nest host would hold.
  Object.defineProperty(redemption, 'worker', { get: () => worker });

  afterAll(async () => {
    await redemption.close();
    await queue.close();
    await flushRedisPrefix(TEST_REDIS_URL, prefix);
    connection.disconnect();
  });

  const hash = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
  const add = (n: number) =>
    queue.add(
      JobName.REDEEM_TICKET,
      { ticketHash: hash(n), sender: `0x${'cd'.repeat(20)}` },
      { ...QUEUE_DEFAULTS[QueueName.TICKET_REDEMPTION], jobId: hash(n) },
    );
  const ranAt = async (n: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const run = runs.find((r) => r.hash === hash(n));
      if (run) return run.at;
      await new Promise((r) => setTimeout(r, 20));
    }
    return undefined;
  };

  it('takes no job while a round wait holds, then goes on', async () => {
    answers.set(hash(1), { kind: 'later', code: 'ROUND_ENDING', delayMs: HOLD_MS, holdAll: true });
    await add(1);
    redemption.start(1);
    const heldAt = await ranAt(1, 5_000);
    expect(heldAt).toBeDefined();
    // Its next run (after its own delay) finds the round ready.
    answers.delete(hash(1));
    await add(2);
    expect(await ranAt(2, HOLD_MS / 2)).toBeUndefined();
    const next = await ranAt(2, HOLD_MS * 3);
    expect(next).toBeDefined();
    expect(next! - heldAt!).toBeGreaterThanOrEqual(HOLD_MS - 50);
  });

  it('a wait of one ticket (no holdAll) holds nothing', async () => {
    answers.set(hash(3), { kind: 'later', code: 'PARAMS_NOT_EXPIRED', delayMs: 60_000 });
    await add(3);
    expect(await ranAt(3, 5_000)).toBeDefined();
    await add(4);
    expect(await ranAt(4, 1_000)).toBeDefined();
  });

  it("the owner's pause ends a hold without resuming; its start resumes at once", async () => {
    answers.set(hash(5), { kind: 'later', code: 'ROUND_NOT_INITIALIZED', delayMs: HOLD_MS, holdAll: true });
    await add(5);
    expect(await ranAt(5, 5_000)).toBeDefined();
    answers.delete(hash(5));
    await redemption.pause();
    await add(6);
    // Past the hold: still paused by its owner.
    expect(await ranAt(6, HOLD_MS + 500)).toBeUndefined();
    redemption.start(1);
    expect(await ranAt(6, 2_000)).toBeDefined();
  });
});
