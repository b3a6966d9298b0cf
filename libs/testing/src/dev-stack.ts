import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '#app/common';

/** The built `npm start` stack running as a child process. */
export interface DevStack {
  /** Its state directory (a fresh temporary one); the caller removes it. */
  stateDir: string;
  proc: ChildProcess;
  /** Everything the stack and its services printed so far. */
  output(): string;
  /** The last `redeemed N` of its progress lines (printed as plain lines without a TTY), or 0. */
  redeemed(): number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `dist/scripts/dev-stack.js` (build first) as a newcomer runs `npm start`: no
 * DATABASE_URL (embedded Postgres), no REDIS_URL (a redis-server from PATH), no chain (anvil);
 * on free ports with its state in a temporary directory named after `name`, so it never touches
 * the developer's `.ticketpay/` or a stack they have running. It inherits this environment (PATH
 * finds redis-server) minus the stores and chain, plus `env`.
 */
export function startDevStack(name: string, env: Record<string, string> = {}): DevStack {
  const stateDir = mkdtempSync(join(tmpdir(), `ticketpay-${name}-`));
  // mkdtemp makes it 0700; as root, Postgres runs as `postgres` and must reach its data dir.
  chmodSync(stateDir, 0o755);
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    TICKETPAY_STATE_DIR: stateDir,
    TICKETPAY_FREE_PORTS: 'true',
    ...env,
  };
  for (const key of ['DATABASE_URL', 'REDIS_URL', 'ETH_RPC_URL', 'CONTROLLER_ADDRESS', 'REDIS_PREFIX']) {
    delete childEnv[key];
  }
  const proc = spawn(process.execPath, [join(repoRoot(), 'dist', 'scripts', 'dev-stack.js')], {
    cwd: repoRoot(),
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    stateDir,
    proc,
    output: () => out,
    redeemed: () => {
      const all = [...out.matchAll(/redeemed (\d+)/g)];
      return all.length ? Number(all[all.length - 1][1]) : 0;
    },
    exited,
  };
}
