import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullPrefix, QueueName, type RedeemTicketJob } from '#app/queue';

export interface RedemptionQueue {
  queue: Queue<RedeemTicketJob>;
  close(): Promise<void>;
}

/** The redemption queue a service under `redisPrefix` on `redisUrl` feeds, to look its jobs up. */
export function openRedemptionQueue(redisUrl: string, redisPrefix: string): RedemptionQueue {
  const conn = new Redis(redisUrl, { maxRetriesPerRequest: null });
  // It reconnects by itself when a test restarts its Redis; the refusals meanwhile are expected.
  conn.on('error', () => undefined);
  const queue = new Queue<RedeemTicketJob>(QueueName.TICKET_REDEMPTION, {
    connection: conn,
    prefix: bullPrefix(redisPrefix),
  });
  return {
    queue,
    async close() {
      await queue.close();
      conn.disconnect();
    },
  };
}
