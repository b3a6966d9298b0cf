import type { DataSource } from 'typeorm';
import type { RedemptionQueueHandle } from '#app/queue';
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

/** The redemption queue under the deployment's REDIS_PREFIX, as QueueModule configures it. */
export async function openRedemptionQueue(
  redisUrl: string,
  redisPrefix: string,
  ds: DataSource,
): Promise<RedemptionQueueHandle> {
  const [{ connectRedemptionQueue }, { WinningTicketRepository }] = await Promise.all([
    import('#app/queue'),
    import('#app/database'),
  ]);
  try {
    return await connectRedemptionQueue(redisUrl, redisPrefix, new WinningTicketRepository(ds));
  } catch (err) {
    throw new CliError(
      CliErrorCode.STORE_UNAVAILABLE,
      `cannot connect to Redis (REDIS_URL): ${(err as Error).message}`,
      { cause: err },
    );
  }
}
