import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { runMigrations } from '#app/database';

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database on the server of `adminUrl`, named `ticketpay_<label>_<random>`, for
 * one test run, test file or benchmark: nobody else's rows can show up in what it asserts.
 */
export async function scratchDatabase(adminUrl: string, label: string): Promise<ScratchDatabase> {
  const name = `ticketpay_${label}_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/\W/g, '_');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect().catch((err: Error) => {
    throw new Error(`Postgres does not answer (${err.message})`, { cause: err });
  });
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    await runMigrations(url.toString());
  } catch (err) {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
    throw err;
  }
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Deletes every Redis key under `prefix` (one deployment's or run's keys, nobody else's). */
export async function flushRedisPrefix(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/**
 * Only while every id of `jobIds` sits in the sorted set `delayedKey` (BullMQ delayed jobs): then
 * deletes every key under `prefix` in one step, as a FLUSHALL would, so no job can move between
 * the check and the flush. Returns how many keys went, or null (nothing touched) when one was not
 * delayed. One Lua script: meant for a test's small keyspace, not a shared production Redis.
 */
export async function flushRedisPrefixWhenDelayed(
  redisUrl: string,
  prefix: string,
  delayedKey: string,
  jobIds: readonly string[],
): Promise<number | null> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  try {
    const deleted = (await redis.eval(FLUSH_WHEN_DELAYED, 1, delayedKey, `${prefix}*`, ...jobIds)) as number;
    return deleted < 0 ? null : deleted;
  } finally {
    redis.disconnect();
  }
}

const FLUSH_WHEN_DELAYED = `
for i = 2, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then return -1 end
end
local deleted, cursor = 0, '0'
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = page[1]
  for _, key in ipairs(page[2]) do deleted = deleted + redis.call('DEL', key) end
until cursor == '0'
return deleted
`;
