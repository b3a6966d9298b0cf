import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runMigrations } from '#app/database';
import { TEST_POSTGRES_URL } from './test-servers.js';

export interface PrivateDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A migrated database of one test file. Fault tests store winning tickets; in the run's shared
 * database they would show up in the totals other files assert (the ops API and dashboard tests).
 */
export async function privateDatabase(name: string): Promise<PrivateDatabase> {
  const dbName = `ticketpay_${name.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${dbName}`;
  await runMigrations(url.toString());
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await admin.end();
    },
  };
}
