import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '#app/common';

/**
 * `npm start` as a newcomer runs it: no DATABASE_URL (embedded Postgres), no REDIS_URL (a
 * redis-server from PATH), no chain (anvil). It must reach demo traffic with a winning ticket
 * redeemed on the local chain, and a SIGINT must stop it and every process it started.
 *
 * The stack runs on free ports with its state in a temporary directory, so it never touches the
 * developer's `.ticketpay/` or a stack they have running.
 */
describe('npm start (the dev stack)', () => {
  let stateDir: string;
  let stack: ChildProcess;
  let output = '';
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  beforeAll(() => {
    // The stack runs from dist/: compile it (incremental, so cheap when up to date).
    const build = spawnSync(
      process.execPath,
      [join(repoRoot(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      { cwd: repoRoot(), encoding: 'utf8' },
    );
    if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);

    stateDir = mkdtempSync(join(tmpdir(), 'ticketpay-devstack-'));
    // mkdtemp makes it 0700; as root, Postgres runs as `postgres` and must reach its data dir.
    chmodSync(stateDir, 0o755);
    // The stack inherits this environment (PATH finds redis-server) minus the stores and chain.
    const env: NodeJS.ProcessEnv = {
      // eslint-disable-next-line no-restricted-syntax -- a child's environment, not configuration
      ...process.env,
      TICKETPAY_STATE_DIR: stateDir,
      TICKETPAY_FREE_PORTS: 'true',
    };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'ETH_RPC_URL', 'CONTROLLER_ADDRESS', 'REDIS_PREFIX']) {
      delete env[name];
    }
    stack = spawn(process.execPath, [join(repoRoot(), 'dist', 'scripts', 'dev-stack.js')], {
      cwd: repoRoot(),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stack.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    stack.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exit = new Promise((resolve) => stack.once('exit', (code, signal) => resolve({ code, signal })));
  });

  afterAll(() => {
    if (stack.exitCode === null && stack.signalCode === null) stack.kill('SIGKILL');
    for (const pid of processesUsing(stateDir)) process.kill(pid, 'SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** The last `redeemed N` of the progress lines (printed as plain lines without a TTY). */
  const redeemed = () => {
    const all = [...output.matchAll(/redeemed (\d+)/g)];
    return all.length ? Number(all[all.length - 1][1]) : 0;
  };

  it('reaches demo traffic with a winning ticket redeemed on the local chain', async () => {
    const deadline = Date.now() + 240_000;
    while (redeemed() < 1) {
      if (stack.exitCode !== null) throw new Error(`npm start exited (${stack.exitCode}):\n${tail(output)}`);
      if (Date.now() > deadline) throw new Error(`no redeemed ticket within 240 s:\n${tail(output)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(output).toContain('embedded Postgres on 127.0.0.1:');
    expect(output).toContain('redis-server on 127.0.0.1:');
    expect(output).toMatch(/tickets sent [1-9]\d*/);
    expect(output).toMatch(/winners [1-9]\d*/);
  }, 300_000);

  it('stops cleanly on SIGINT, leaving no process behind', async () => {
    const pids = startedPids(output);
    expect(Object.keys(pids)).toEqual(
      expect.arrayContaining([
        'postgres',
        'redis',
        'anvil',
        'sender',
        'recipient',
        'sender-monitor',
        'redeemer',
      ]),
    );
    stack.kill('SIGINT');
    const { code } = await exit;
    expect(code, tail(output)).toBe(0);
    expect(output).toContain('stopped');
    for (const [name, pid] of Object.entries(pids)) expect(isAlive(pid), `${name} (${pid})`).toBe(false);
    expect(processesUsing(stateDir)).toEqual([]);
  }, 120_000);
});

/** The `processes: {...}` line the stack prints once everything runs. */
function startedPids(output: string): Record<string, number> {
  const match = /processes: (\{[^\n]*\})/.exec(output);
  if (!match) throw new Error(`no processes line:\n${tail(output)}`);
  return JSON.parse(match[1]) as Record<string, number>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes (other than this one) whose command line or environment names `dir`. */
function processesUsing(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      // A zombie has an empty cmdline: it is gone as far as resources go.
      if (cmdline !== '' && (cmdline.includes(dir) || environ.includes(dir))) found.push(pid);
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return found;
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}
