import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LOCAL_STACK_ENV_FILE, LOCAL_STACK_KEYS, readLocalStackEnv, repoRoot } from '#app/common';
import { usageError } from './cli.error.js';

type RawEnv = Readonly<Record<string, string | undefined>>;

/** Where `npm start` keeps its state: TICKETPAY_STATE_DIR, else `.ticketpay` in the checkout. */
export function localStateDir(rawEnv: RawEnv): string {
  return resolve(rawEnv.TICKETPAY_STATE_DIR || join(repoRoot(), '.ticketpay'));
}

/**
 * The environment with a running local stack's settings (its Postgres, Redis, anvil and
 * Controller) for those left unset: `ticketpay tickets list` beside `npm start` needs no setup.
 * Whatever the user set wins; without a running stack nothing changes.
 */
export function withLocalStack(rawEnv: RawEnv): RawEnv {
  const stack = readLocalStackEnv(localStateDir(rawEnv));
  if (!stack) return rawEnv;
  const env: Record<string, string | undefined> = { ...rawEnv };
  for (const key of LOCAL_STACK_KEYS) if (!env[key] && stack[key]) env[key] = stack[key];
  return env;
}

/** DATABASE_URL, or a usage error saying what to set (or start) when there is none. */
export function requireDatabaseUrl(url: string | undefined, rawEnv: RawEnv): string {
  if (url) return url;
  const stateDir = localStateDir(rawEnv);
  const stack = existsSync(stateDir)
    ? `the local stack in ${stateDir} is not running (start it with \`npm start\`; while it runs its ` +
      `Postgres is used, from ${LOCAL_STACK_ENV_FILE})`
    : 'no local stack runs (`npm start` in the checkout starts one, and its Postgres is then used)';
  throw usageError(
    `this command reads the services' Postgres: set DATABASE_URL (e.g. postgres://user:password@host:5432/ticketpay); ${stack}`,
  );
}
