import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices, startDevStack, type DevStack } from '#app/testing';

/**
 * `npm start` as a newcomer runs it: no DATABASE_URL (embedded Postgres), no REDIS_URL (a
 * redis-server from PATH), no chain (anvil). It must reach demo traffic with a winning ticket
 * redeemed on the local chain, and a SIGINT must stop it and every process it started.
 *
 * The stack runs on free ports with its state in a temporary directory, so it never touches the
 * developer's `.ticketpay/` or a stack they have running.
 */
describe('npm start (the dev stack)', () => {
  let stack: DevStack;
  const output = () => stack.output();

  beforeAll(() => {
    stack = startStack('devstack');
  });
  afterAll(() => removeStack(stack));

  it('reaches demo traffic with a winning ticket redeemed on the local chain', async () => {
    const deadline = Date.now() + 240_000;
    while (stack.redeemed() < 1) {
      if (stack.proc.exitCode !== null)
        throw new Error(`npm start exited (${stack.proc.exitCode}):\n${tail(output())}`);
      if (Date.now() > deadline) throw new Error(`no redeemed ticket within 240 s:\n${tail(output())}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(output()).toContain('embedded Postgres on 127.0.0.1:');
    expect(output()).toContain('redis-server on 127.0.0.1:');
    expect(output()).toMatch(/tickets sent [1-9]\d*/);
    expect(output()).toMatch(/winners [1-9]\d*/);
  }, 300_000);

  it("keeps the services' logs off the console, in files it names, and says where the URL and token are", () => {
    const logDir = join(stack.stateDir, 'logs');
    expect(output()).toContain(`service logs in ${logDir}/<service>.log`);
    for (const name of ['sender', 'recipient', 'sender-monitor', 'redeemer', 'anvil', 'postgres']) {
      expect(existsSync(join(logDir, `${name}.log`)), name).toBe(true);
    }
    const recipientLog = readFileSync(join(logDir, 'recipient.log'), 'utf8');
    expect(recipientLog).toContain('service started');
    expect(recipientLog, 'plain text, no colour codes').not.toContain(String.fromCharCode(27));
    // The console: the stack's own lines, the demo's and the progress; no service chatter.
    const serviceLines = output()
      .split('\n')
      .filter((l) => SERVICES.has(plain(l).split('│')[0].trim()));
    expect(serviceLines.filter((l) => !/\bERROR\b/.test(l))).toEqual([]);
    expect(output()).not.toContain('service started');
    // Where the database and the demo's Sender API token are, never the values themselves.
    const stackEnv = join(stack.stateDir, 'local-stack.env');
    expect(output()).toContain(`URL in ${stackEnv}`);
    const settings = readFileSync(stackEnv, 'utf8');
    expect(settings).toMatch(/^DATABASE_URL=postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/ticketpay$/m);
    expect(settings).toMatch(/^REDIS_URL=redis:\/\/127\.0\.0\.1:\d+$/m);
    expect(settings).toMatch(/^ETH_RPC_URL=http:\/\/127\.0\.0\.1:\d+$/m);
    expect(settings).toMatch(/^CONTROLLER_ADDRESS=0x[0-9a-fA-F]{40}$/m);
    expect(statSync(stackEnv).mode & 0o777).toBe(0o600);
    expect(output()).not.toContain(/^DATABASE_URL=(.*)$/m.exec(settings)![1]);
    const tokenFile = join(stack.stateDir, 'demo', 'api-token');
    expect(output()).toContain(`Sender API token of the demo broadcaster in ${tokenFile}`);
    expect(output()).not.toContain(readFileSync(tokenFile, 'utf8').trim());
  });

  it('stops cleanly on SIGINT, leaving no process behind', async () => {
    const pids = startedPids(output());
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
    stack.proc.kill('SIGINT');
    const { code } = await stack.exited;
    expect(code, tail(output())).toBe(0);
    expect(output()).toContain('stopped');
    for (const [name, pid] of Object.entries(pids)) expect(isAlive(pid), `${name} (${pid})`).toBe(false);
    expect(processesUsing(stack.stateDir)).toEqual([]);
    // The stack's settings are there only while it runs; the logs stay, complete.
    expect(existsSync(join(stack.stateDir, 'local-stack.env'))).toBe(false);
    expect(readFileSync(join(stack.stateDir, 'logs', 'recipient.log'), 'utf8')).toContain('shutting down');
  }, 120_000);
});

describe('npm start when its terminal closes', () => {
  let stack: DevStack;

  beforeAll(() => {
    stack = startStack('devstack-hup', { TICKETPAY_DEMO: 'false' });
  });
  afterAll(() => removeStack(stack));

  it('stops on SIGHUP as on Ctrl-C, leaving no process behind', async () => {
    const deadline = Date.now() + 180_000;
    while (!stack.output().includes('press Ctrl-C to stop')) {
      if (stack.proc.exitCode !== null)
        throw new Error(`npm start exited (${stack.proc.exitCode}):\n${tail(stack.output())}`);
      if (Date.now() > deadline) throw new Error(`not up within 180 s:\n${tail(stack.output())}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const pids = startedPids(stack.output());
    expect(Object.keys(pids)).toEqual(expect.arrayContaining(['postgres', 'redis', 'anvil', 'redeemer']));
    stack.proc.kill('SIGHUP');
    const { code } = await stack.exited;
    expect(code, tail(stack.output())).toBe(0);
    expect(stack.output()).toContain('stopped');
    for (const [name, pid] of Object.entries(pids)) expect(isAlive(pid), `${name} (${pid})`).toBe(false);
    expect(processesUsing(stack.stateDir)).toEqual([]);
  }, 300_000);
});

function startStack(name: string, env?: Record<string, string>): DevStack {
  buildServices();
  return startDevStack(name, env);
}

/** Whatever the case left running is killed, and the state directory goes. */
function removeStack(stack: DevStack): void {
  if (stack.proc.exitCode === null && stack.proc.signalCode === null) stack.proc.kill('SIGKILL');
  for (const pid of processesUsing(stack.stateDir)) process.kill(pid, 'SIGKILL');
  rmSync(stack.stateDir, { recursive: true, force: true });
}

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

const SERVICES = new Set(['sender', 'recipient', 'sender-monitor', 'redeemer', 'ops']);

/** A console line without its colour codes. */
function plain(line: string): string {
  return line
    .split(String.fromCharCode(27))
    .join('')
    .replace(/\[\d+m/g, '');
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}
