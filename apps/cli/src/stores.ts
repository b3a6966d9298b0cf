import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { RedeemTicketJob, RedemptionQueue } from '#app/queue';
import { CliError, CliErrorCode } from './cli.error.js';

// TypeORM, BullMQ and their Nest wrappers are loaded only by the commands that use them, so the
// chain and keystore commands start quickly.

/** Connects to Postgres and refuses a schema that is behind the code, as the services do. */
export async function openDatabase(url: string): Promise<DataSource> {
  const { createDataSource } = await import('#app/database');
  const ds = createDataSource(url);
  try {
    await ds.initialize();
  } catch (err) {
    throw new CliError(
      CliErrorCode.STORE_UNAVAILABLE,
      `cannot connect to the database (DATABASE_URL): ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (await ds.showMigrations()) {
    await ds.destroy();
    throw new CliError(
      CliErrorCode.STORE_UNAVAILABLE,
      'the database has pending migrations: run `npm run migrate` first',
    );
  }
  return ds;
}

export interface RedemptionQueueHandle {
  queue: Queue<RedeemTicketJob>;
  /** The services' own producer: same job name, job id (the ticket hash) and options. */
  producer: RedemptionQueue;
  close(): Promise<void>;
}

/** The redemption queue under the deployment's REDIS_PREFIX, as QueueModule configures it. */
export async function openRedemptionQueue(
  redisUrl: string,
  redisPrefix: string,
): Promise<RedemptionQueueHandle> {
  const [{ Redis }, { Queue }, { QueueName, RedemptionQueue, bullPrefix }] = await Promise.all([
    import('ioredis'),
    import('bullmq'),
    import('#app/queue'),
  ]);
  // A CLI fails fast instead of reconnecting forever when Redis is down.
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
    throw new CliError(
      CliErrorCode.STORE_UNAVAILABLE,
      `cannot connect to Redis (REDIS_URL): ${(err as Error).message}`,
      { cause: err },
    );
  }
  const queue = new Queue<RedeemTicketJob>(QueueName.TICKET_REDEMPTION, {
    connection: redis,
    prefix: bullPrefix(redisPrefix),
  });
  return {
    queue,
    producer: new RedemptionQueue(queue),
    close: async () => {
      await queue.close();
      redis.disconnect();
    },
  };
}
