import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * Makes sure the database named in `databaseUrl` exists (creating it through the server's
 * `postgres` database) and explains how to get a server when none answers.
 */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/^[\w-]+$/.test(name)) throw new Error(`unsupported database name "${name}"`);
  const adminUrl = new URL(databaseUrl);
  adminUrl.pathname = '/postgres';
  const client = new pg.Client({ connectionString: adminUrl.toString(), connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL does not answer at ${url.host} (${(err as Error).message}).\n` +
        '  Set DATABASE_URL, or install one: `sudo apt-get install -y postgresql` (Debian/Ubuntu), ' +
        '`brew install postgresql` (macOS), or `docker compose up -d postgres`.',
      { cause: err },
    );
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

export async function ensureRedis(redisUrl: string): Promise<void> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Redis does not answer at ${redisUrl.replace(/\/\/.*@/, '//***@')} (${(err as Error).message}).\n` +
        '  Set REDIS_URL, or install one: `sudo apt-get install -y redis-server` (Debian/Ubuntu), ' +
        '`brew install redis` (macOS), or `docker compose up -d redis`.',
      { cause: err },
    );
  } finally {
    redis.disconnect();
  }
}
