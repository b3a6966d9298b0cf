import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { runMigrations } from '#app/database';
import { TEST_POSTGRES_URL, TEST_REDIS_URL } from './test-servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    redisPrefix: string;
  }
}

/**
 * One database and one Redis key prefix per test run, created and migrated here and dropped at
 * the end, so concurrent runs on the same servers never see each other's rows or keys.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `ticketpay_test_${project.name}_${runId}`.replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect().catch((err: Error) => {
    throw new Error(
      `Postgres at ${TEST_POSTGRES_URL} does not answer (${err.message}); set TEST_POSTGRES_URL`,
    );
  });
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.end();

  const dbUrl = new URL(TEST_POSTGRES_URL);
  dbUrl.pathname = `/${dbName}`;
  const databaseUrl = dbUrl.toString();
  await runMigrations(databaseUrl);

  const redisPrefix = `ticketpay-test:${runId}:`;
  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', TEST_REDIS_URL);
  project.provide('redisPrefix', redisPrefix);

  return async () => {
    await dropRedisPrefix(redisPrefix);
    const admin2 = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin2.connect();
    await admin2.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin2.end();
  };
}

async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
