import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { BlockPace } from '#app/chain';
import type { WinningTicketRepository } from '#app/database';
import { bullPrefix, QueueName, type RedeemTicketJob } from './queues.js';
import { RedemptionQueue } from './redemption-queue.js';

export interface RedemptionQueueHandle {
  /** The services' own producer: same job name, job id (the ticket hash) and options. */
  queue: RedemptionQueue;
  close(): Promise<void>;
}

/**
 * The redemption queue under a deployment's REDIS_PREFIX outside Nest (the CLI), as QueueModule
 * configures it. Fails fast, instead of reconnecting forever, when Redis is down: the connection
 * error is thrown as is. Without a `pace` (one fed by heads), new jobs' first runs are not delayed;
 * with one, they are timed for the default params expiry margin.
 */
export async function connectRedemptionQueue(
  redisUrl: string,
  redisPrefix: string,
  tickets: WinningTicketRepository,
  pace?: BlockPace,
): Promise<RedemptionQueueHandle> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 3,
    retryStrategy: (attempt) => (attempt > 3 ? null : attempt * 200),
  });
  redis.on('error', () => undefined); // reported through the failing command instead
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const queue = new Queue<RedeemTicketJob>(QueueName.TICKET_REDEMPTION, {
    connection: redis,
    prefix: bullPrefix(redisPrefix),
  });
  return {
    queue: new RedemptionQueue(queue, tickets, pace),
    close: async () => {
      await queue.close();
      redis.disconnect();
    },
  };
}
