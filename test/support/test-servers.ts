/**
 * Where the test servers are. Overridable for other machines; these defaults are the servers the
 * development and CI machines run. Read only by the test harness, never by services.
 */
export const TEST_POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
