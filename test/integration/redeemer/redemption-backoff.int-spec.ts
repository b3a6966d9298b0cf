import { Backoffs, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  ERROR_BACKOFF_MAX_MS,
  JobName,
  QUEUE_DEFAULTS,
  QueueName,
  REDEMPTION_WORKER_OPTIONS,
  RedemptionWorker,
  bullPrefix,
  type RedemptionJobHandler,
  redemptionBackoffMs,
  type RedeemTicketJob,
} from '#app/queue';
import { flushRedisPrefix } from '#app/testing';
import { TEST_REDIS_URL } from '../../support/test-servers.js';

/**
 * A redemption job whose run throws (Postgres or the chain unreachable) is parked for the delay its
 * handler gives (the Redeemer: its retry back-off, cut to the ticket's last valid round), else for a
 * fallback back-off that doubles from 2 s but never exceeds ERROR_BACKOFF_MAX_MS, whatever back-off
 * the job was stored with: BullMQ's own exponential one would park it for hours after a long
 * outage, past its ticket's expiry.
 */
describe('redemption job back-off after a thrown run', () => {
  const prefix = bullPrefix(`${inject('redisPrefix')}redemption-backoff:`);
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue<RedeemTicketJob>(QueueName.TICKET_REDEMPTION, { connection, prefix });
  let failing = true;
  const handler: RedemptionJobHandler = {
    process: () =>
      failing
        ? Promise.reject(new Error('database unavailable'))
        : Promise.resolve({ kind: 'later', code: 'WAIT', delayMs: 60_000 }),
  };
  const redemption = new RedemptionWorker(handler);
  const worker = new Worker<RedeemTicketJob>(
    QueueName.TICKET_REDEMPTION,
    (job, token) => redemption.process(job, token),
    { connection, prefix, settings: REDEMPTION_WORKER_OPTIONS.settings },
  );

  afterAll(async () => {
    await worker.close();
    await queue.close();
    await flushRedisPrefix(TEST_REDIS_URL, prefix);
    connection.disconnect();
  });

  /** Adds a job as the intake does and waits until the worker has parked it. */
  async function parked(data: RedeemTicketJob) {
    const job = await queue.add(JobName.REDEEM_TICKET, data, {
      ...QUEUE_DEFAULTS[QueueName.TICKET_REDEMPTION],
      jobId: data.ticketHash,
    });
    for (let i = 0; i < 200 && (await queue.getJobState(job.id!)) !== 'delayed'; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(await queue.getJobState(job.id!)).toBe('delayed');
    return (await queue.getJob(job.id!))!;
  }

  /**
   * BullMQ stores the delay as the target time minus its own clock read, a little after the
   * worker's: a millisecond or a few under the back-off, never over.
   */
  function expectDelay(job: { delay: number }, ms: number): void {
    expect(job.delay).toBeLessThanOrEqual(ms);
    expect(job.delay).toBeGreaterThan(ms - 100);
  }

  const hash = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
  const sender = `0x${'cd'.repeat(20)}`;

  it('doubles from 2 s and stops at the cap', () => {
    expect([1, 2, 3, 4].map(redemptionBackoffMs)).toEqual([2_000, 4_000, 8_000, 16_000]);
    expect(redemptionBackoffMs(14)).toBe(ERROR_BACKOFF_MAX_MS);
    expect(redemptionBackoffMs(999)).toBe(ERROR_BACKOFF_MAX_MS);
  });

  it('parks a job whose run threw for 2 s, counting the errors in its data, not its attempts', async () => {
    const job = await parked({ ticketHash: hash(1), sender });
    expect(job.data.errors).toBe(1);
    expect(job.attemptsMade).toBe(0);
    expectDelay(job, 2_000);
  });

  it('waits at most the cap after a long streak (BullMQ: 2^14 × 2 s, 9 h)', async () => {
    const job = await parked({ ticketHash: hash(2), sender, errors: 14 });
    expect(job.data.errors).toBe(15);
    expectDelay(job, ERROR_BACKOFF_MAX_MS);
  });

  it('caps the back-off BullMQ applies itself, to a run whose failure the worker could not record', async () => {
    // Redis failing under updateData or moveToDelayed: BullMQ counts an attempt and backs off by
    // the job's stored type, which resolves to the worker's strategy, over the job's whole life.
    // Not one of BullMQ's own types (whose exponential one has no ceiling): the worker's strategy decides.
    const { type } = Backoffs.normalize(QUEUE_DEFAULTS[QueueName.TICKET_REDEMPTION].backoff!)!;
    expect(Object.keys(Backoffs.builtinStrategies)).not.toContain(type);
    const strategy = REDEMPTION_WORKER_OPTIONS.settings.backoffStrategy;
    expect([1, 3, 15].map((attempts) => strategy(attempts))).toEqual([2_000, 8_000, ERROR_BACKOFF_MAX_MS]);

    // As a worker with these settings does: the job is delayed by it, not failed.
    const rawPrefix = bullPrefix(`${inject('redisPrefix')}redemption-backoff-raw:`);
    const rawQueue = new Queue<RedeemTicketJob>(QueueName.TICKET_REDEMPTION, {
      connection,
      prefix: rawPrefix,
    });
    const raw = new Worker<RedeemTicketJob>(
      QueueName.TICKET_REDEMPTION,
      () => Promise.reject(new Error('connection lost while parking the job')),
      { connection, prefix: rawPrefix, settings: REDEMPTION_WORKER_OPTIONS.settings },
    );
    try {
      const job = await rawQueue.add(
        JobName.REDEEM_TICKET,
        { ticketHash: hash(4), sender },
        {
          ...QUEUE_DEFAULTS[QueueName.TICKET_REDEMPTION],
          jobId: hash(4),
        },
      );
      for (let i = 0; i < 200 && (await rawQueue.getJobState(job.id!)) !== 'delayed'; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      const parkedJob = (await rawQueue.getJob(job.id!))!;
      expect(await parkedJob.getState()).toBe('delayed');
      expect(parkedJob.attemptsMade).toBe(1);
      expectDelay(parkedJob, 2_000);
    } finally {
      await raw.close();
      await rawQueue.close();
      await flushRedisPrefix(TEST_REDIS_URL, rawPrefix);
    }
  });

  it("parks a job whose run threw for its handler's delay, given the errors in a row", async () => {
    const asked: [string, number][] = [];
    handler.errorDelay = (ticketHash, errors) => {
      asked.push([ticketHash, errors]);
      // A ticket with 45 s left in its last valid round: not the fallback's 5 minutes.
      return Promise.resolve(45_000);
    };
    try {
      const job = await parked({ ticketHash: hash(5), sender, errors: 14 });
      expect(asked).toEqual([[hash(5), 15]]);
      expect(job.data.errors).toBe(15);
      expect(job.attemptsMade).toBe(0);
      expectDelay(job, 45_000);

      // A handler that cannot say: the fallback back-off.
      handler.errorDelay = () => Promise.reject(new Error('no delay'));
      expectDelay(await parked({ ticketHash: hash(6), sender, errors: 2 }), 8_000);
    } finally {
      delete handler.errorDelay;
    }
  });

  it('ends the streak with a run that goes through', async () => {
    failing = false;
    const job = await parked({ ticketHash: hash(3), sender, errors: 5 });
    expect(job.data).toEqual({ ticketHash: hash(3), sender });
    expectDelay(job, 60_000);
  });
});
