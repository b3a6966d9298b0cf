import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Console } from './console.js';

const COLORS = [36, 35, 33, 32, 34, 31];

export interface StartOptions {
  env: NodeJS.ProcessEnv;
  /** Signal asking the process to stop. Default SIGTERM (Postgres: SIGINT, its fast shutdown). */
  stopSignal?: NodeJS.Signals;
  /** Called with each output line instead of printing it when it returns true. */
  intercept?: (line: string) => boolean;
  /** Called when the process exits while the group is not stopping. */
  onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** Extra spawn options (uid/gid). */
  spawn?: Pick<SpawnOptions, 'uid' | 'gid' | 'cwd'>;
}

interface Member {
  name: string;
  proc: ChildProcess;
  stopSignal: NodeJS.Signals;
}

/**
 * Child processes started together, logging with a coloured name prefix, stopped together.
 *
 * Children run in their own process groups (`detached`), so a Ctrl-C in the terminal reaches only
 * the dev stack, which then stops them in order: clients before the stores they write to. Should
 * the dev stack die anyway, its exit handler still kills every child it knows of.
 */
export class ProcessGroup {
  private readonly members: Member[] = [];
  private stopping = false;

  constructor(private readonly out: Console) {
    process.on('exit', () => {
      for (const { proc } of this.members) if (isRunning(proc)) proc.kill('SIGKILL');
    });
  }

  start(name: string, cmd: string, args: readonly string[], options: StartOptions): ChildProcess {
    const color = COLORS[this.members.length % COLORS.length];
    const prefix = `\x1b[${color}m${name.padEnd(14)}\x1b[0m│ `;
    const proc = spawn(cmd, args, {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...options.spawn,
    });
    for (const stream of [proc.stdout, proc.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        if (!options.intercept?.(line)) this.out.line(prefix + line);
      });
    }
    proc.on('error', (err) => this.out.line(`${prefix}failed to start: ${err.message}`));
    proc.on('exit', (code, signal) => {
      if (this.stopping) return;
      this.out.line(`${prefix}exited with ${signal ?? `code ${code}`}`);
      options.onUnexpectedExit?.(code, signal);
    });
    this.members.push({ name, proc, stopSignal: options.stopSignal ?? 'SIGTERM' });
    return proc;
  }

  /** Process ids of the running children, by name. */
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const m of this.members) if (m.proc.pid !== undefined && isRunning(m.proc)) out[m.name] = m.proc.pid;
    return out;
  }

  /**
   * Stops the children tier by tier: each tier's members (by name) are signalled together and
   * SIGKILLed after `graceMs`; members not named in any tier go last unless `rest` is false.
   */
  async stop(
    tiers: readonly (readonly string[])[],
    { graceMs = 15_000, rest = true }: { graceMs?: number; rest?: boolean } = {},
  ): Promise<void> {
    this.stopping = true;
    const named = new Set(tiers.flat());
    const others = rest ? this.members.filter((m) => !named.has(m.name)).map((m) => m.name) : [];
    for (const tier of [...tiers, others]) {
      await Promise.all(this.members.filter((m) => tier.includes(m.name)).map((m) => terminate(m, graceMs)));
    }
  }
}

function isRunning(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

async function terminate(member: Member, graceMs: number): Promise<void> {
  const { proc } = member;
  if (!isRunning(proc)) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill(member.stopSignal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
