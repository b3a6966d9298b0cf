import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  ERROR_BACKOFF_MAX_MS,
  JobName,
  QUEUE_DEFAULTS,
  QueueName,
  REDEMPTION_WORKER_OPTIONS,
  bullPrefix,
  redemptionBackoffMs,
} from '#app/queue';
import { flushRedisPrefix } from '#app/testing';
import { TEST_REDIS_URL } from '../../support/test-servers.js';

/**
 * A redemption job whose run throws (Postgres or the chain unreachable) is retried after a back-off
 * that doubles from 2 s but never exceeds ERROR_BACKOFF_MAX_MS: BullMQ's own exponential back-off
 * would park it for hours after a long outage, past its ticket's expiry.
 */
describe('redemption job back-off after a thrown run', () => {
  const prefix = bullPrefix(`${inject('redisPrefix')}redemption-backoff:`);
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const closers: (() => Promise<unknown>)[] = [];

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await flushRedisPrefix(TEST_REDIS_URL, prefix);
    connection.disconnect();
  });

  it('doubles from 2 s and stops at the cap', () => {
    expect([1, 2, 3, 4].map(redemptionBackoffMs)).toEqual([2_000, 4_000, 8_000, 16_000]);
    expect(redemptionBackoffMs(14)).toBe(ERROR_BACKOFF_MAX_MS);
    expect(redemptionBackoffMs(999)).toBe(ERROR_BACKOFF_MAX_MS);
    expect(redemptionBackoffMs(0)).toBe(2_000);
  });

  it("is what BullMQ applies with the RedemptionWorker's options to a job stored with the queue defaults", async () => {
    const queue = new Queue(QueueName.TICKET_REDEMPTION, { connection, prefix });
    closers.push(() => queue.close());
    const job = await queue.add(
      JobName.REDEEM_TICKET,
      { ticketHash: `0x${'ab'.repeat(32)}`, sender: `0x${'cd'.repeat(20)}` },
      QUEUE_DEFAULTS[QueueName.TICKET_REDEMPTION],
    );
    // As if 14 runs had thrown already (a long outage): BullMQ's exponential would wait 2^14 × 2 s.
    await connection.hset(`${prefix}:${QueueName.TICKET_REDEMPTION}:${job.id}`, 'atm', 14);
    const worker = new Worker(
      QueueName.TICKET_REDEMPTION,
      () => Promise.reject(new Error('database unavailable')),
      {
        ...REDEMPTION_WORKER_OPTIONS,
        connection,
        prefix,
      },
    );
    closers.push(() => worker.close());
    const failed = new Promise<void>((resolve) => worker.on('failed', () => resolve()));
    void worker.run();
    await failed;
    // Retried, not failed for good, and after the cap.
    expect(await queue.getJobState(job.id!)).toBe('delayed');
    const stored = await queue.getJob(job.id!);
    expect(stored?.attemptsMade).toBe(15);
    expect(stored?.delay).toBe(ERROR_BACKOFF_MAX_MS);
  });
});
