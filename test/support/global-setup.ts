import { randomBytes } from 'node:crypto';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { flushRedisPrefix, scratchDatabase } from '#app/testing';
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
  const db = await scratchDatabase(TEST_POSTGRES_URL, `test_${project.name}`);
  const redisPrefix = `ticketpay-test:${runId}:`;
  project.provide('databaseUrl', db.url);
  project.provide('redisUrl', TEST_REDIS_URL);
  project.provide('redisPrefix', redisPrefix);

  return async () => {
    await flushRedisPrefix(TEST_REDIS_URL, redisPrefix);
    await db.drop();
  };
}
