import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import { freePort } from '#app/testing';
import type { ProcessGroup } from './process-group.js';

export const REDIS_INSTALL_HINT =
  'redis-server is not installed and REDIS_URL is not set. Get one of:\n' +
  '  Debian/Ubuntu:  sudo apt-get install -y redis-server\n' +
  '  macOS:          brew install redis\n' +
  '  Docker:         docker compose up -d redis   (then REDIS_URL=redis://127.0.0.1:6379 npm start)';

const STARTUP_NOISE =
  /oO0OoO0OoO0Oo|Redis version=|Configuration loaded|Server initialized|Memory overcommit|Ready to accept/;

/**
 * A `redis-server` from PATH on a free loopback port, its append-only file in `dir` so queued
 * jobs and nonce state survive a restart. No npm package ships a Redis binary.
 */
export async function startRedisServer(
  dir: string,
  group: ProcessGroup,
  onUnexpectedExit: () => void,
): Promise<{ url: string }> {
  if (spawnSync('redis-server', ['--version']).error) throw new Error(REDIS_INSTALL_HINT);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const proc = group.start(
    'redis',
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--dir',
      dir,
      '--loglevel',
      'warning',
      '--daemonize',
      'no',
    ],
    {
      env: process.env,
      onUnexpectedExit,
      // Start-up banner and the overcommit advice (irrelevant without snapshots) are noise.
      intercept: (line) => (STARTUP_NOISE.test(line) ? 'file' : 'show'),
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`redis-server exited during start-up (code ${proc.exitCode})`);
    if (await answers(url)) return { url };
    if (Date.now() > deadline) throw new Error('redis-server did not answer within 15 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function answers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    // While it replays the append-only file Redis answers LOADING: not ready yet.
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
