import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '#migrations';
import { ChainTxEntity } from './chain-tx/chain-tx.entity.js';
import { SignerNonceEntity } from './chain-tx/signer-nonce.entity.js';
import { RecipientSecretEntity } from './recipient-secret/recipient-secret.entity.js';
import { RedemptionEntity } from './redemption/redemption.entity.js';
import { ParameterFreeQueryLogger } from './query-logger.js';
import { WinningTicketEntity } from './winning-ticket/winning-ticket.entity.js';

export const ENTITIES = [
  WinningTicketEntity,
  RecipientSecretEntity,
  ChainTxEntity,
  SignerNonceEntity,
  RedemptionEntity,
];

/** One definition of the schema wiring, shared by services, the migrate command and tests. */
export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    // Never TypeORM's default: it logs a failed statement's parameters (ticket secrets).
    logger: new ParameterFreeQueryLogger(),
  };
}

export function createDataSource(url: string): DataSource {
  return new DataSource(dataSourceOptions(url));
}

/**
 * Applies pending migrations under a Postgres advisory lock, so several processes starting
 * at once (replicas, `npm start`) never run the same migration twice.
 */
export async function runMigrations(url: string): Promise<string[]> {
  const ds = await createDataSource(url).initialize();
  try {
    const runner = ds.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const ran = await ds.runMigrations({ transaction: 'each' });
      return ran.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
      await runner.release();
    }
  } finally {
    await ds.destroy();
  }
}

/** Arbitrary but fixed: identifies ticketpay's migration lock among other advisory locks. */
const MIGRATION_LOCK_KEY = 7_460_129_001;
