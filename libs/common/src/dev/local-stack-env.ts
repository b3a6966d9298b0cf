import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * While `npm start` runs, `<state dir>/local-stack.env` names the stores and chain it started
 * itself, as `KEY=value` lines; the `ticketpay` CLI uses them for the variables left unset, and a
 * shell can load them (`set -a; . .ticketpay/local-stack.env; set +a`). The file is the owner's
 * only (the database URL holds the dev cluster's password) and is removed when the stack stops.
 */
export const LOCAL_STACK_ENV_FILE = 'local-stack.env';

/** The settings the file may hold; anything else in it is ignored. */
export const LOCAL_STACK_KEYS = ['DATABASE_URL', 'REDIS_URL', 'ETH_RPC_URL', 'CONTROLLER_ADDRESS'] as const;
export type LocalStackKey = (typeof LOCAL_STACK_KEYS)[number];
export type LocalStackEnv = Partial<Record<LocalStackKey, string>>;

/** The pid file of a running stack (one stack per state dir). */
export const STACK_PID_FILE = 'stack.pid';

export function writeLocalStackEnv(stateDir: string, values: LocalStackEnv): string {
  const file = join(stateDir, LOCAL_STACK_ENV_FILE);
  const lines = LOCAL_STACK_KEYS.filter((k) => values[k]).map((k) => `${k}=${values[k]}`);
  writeFileSync(
    file,
    `# Written by npm start while it runs (removed when it stops): what it started for you.\n${lines.join('\n')}\n`,
    { mode: 0o600 },
  );
  return file;
}

export function removeLocalStackEnv(stateDir: string): void {
  rmSync(join(stateDir, LOCAL_STACK_ENV_FILE), { force: true });
}

/**
 * The settings of the stack running in `stateDir`, or undefined when none runs there (no file, or
 * one left behind by a stack that died: its pid is gone).
 */
export function readLocalStackEnv(stateDir: string): LocalStackEnv | undefined {
  const file = join(stateDir, LOCAL_STACK_ENV_FILE);
  if (!existsSync(file) || !stackRunning(stateDir)) return undefined;
  const values: LocalStackEnv = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    const key = line.slice(0, eq) as LocalStackKey;
    if (eq > 0 && !line.startsWith('#') && LOCAL_STACK_KEYS.includes(key))
      values[key] = line.slice(eq + 1).trim();
  }
  return values;
}

function stackRunning(stateDir: string): boolean {
  const pidFile = join(stateDir, STACK_PID_FILE);
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
