import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NAME_WIDTH, type Console } from './console.js';

const COLORS = [36, 35, 33, 32, 34, 31];

/** Lines of a child's output kept in memory, printed when it dies unexpectedly. */
const TAIL_LINES = 25;

/** Error lines of Nest's text and JSON loggers: shown even on a quiet console. */
const ERROR_LINE = /\bERROR\b|"level":"(error|fatal)"/;

/**
 * What becomes of one output line. Every line but a dropped one goes to the child's log file;
 * `show` also to the console when logs are shown (an error line always), `always` to the console
 * in any case, `file` never; `drop` goes nowhere (a signal to the stack itself).
 */
export type LineFate = 'always' | 'show' | 'file' | 'drop';

export interface StartOptions {
  env: NodeJS.ProcessEnv;
  /** Signal asking the process to stop. Default SIGTERM (Postgres: SIGINT, its fast shutdown). */
  stopSignal?: NodeJS.Signals;
  /** Sees each output line first and decides where it goes (default `show`). */
  intercept?: (line: string) => LineFate;
  /** Called when the process exits while the group is not stopping. */
  onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** Extra spawn options (uid/gid). */
  spawn?: Pick<SpawnOptions, 'uid' | 'gid' | 'cwd'>;
}

export interface ProcessGroupOptions {
  /** Each child's output goes to `<logDir>/<name>.log`; the previous run's is kept as `<name>.log.1`. */
  logDir: string;
  /** Also print the children's output on the console; otherwise only their errors and exits. */
  showLogs: boolean;
}

interface Member {
  name: string;
  proc: ChildProcess;
  stopSignal: NodeJS.Signals;
  /** Resolves once the child's output is all written to its log file. */
  logged: Promise<void>;
}

/**
 * Child processes started together, logging to one file each (and with a coloured name prefix to
 * the console when asked), stopped together.
 *
 * Children run in their own process groups (`detached`), so a Ctrl-C in the terminal reaches only
 * the dev stack, which then stops them in order: clients before the stores they write to. Should
 * the dev stack die anyway, its exit handler still kills every child it knows of.
 */
export class ProcessGroup {
  private readonly members: Member[] = [];
  private stopping = false;

  constructor(
    private readonly out: Console,
    private readonly options: ProcessGroupOptions,
  ) {
    mkdirSync(options.logDir, { recursive: true });
    process.on('exit', () => {
      for (const { proc } of this.members) if (isRunning(proc)) proc.kill('SIGKILL');
    });
  }

  /** The log file of the child called `name`. */
  logFile(name: string): string {
    return join(this.options.logDir, `${name}.log`);
  }

  start(name: string, cmd: string, args: readonly string[], options: StartOptions): ChildProcess {
    const color = COLORS[this.members.length % COLORS.length];
    const prefix = `\x1b[${color}m${name.padEnd(NAME_WIDTH)}\x1b[0m│ `;
    const file = this.logFile(name);
    if (existsSync(file)) renameSync(file, `${file}.1`);
    const log = createWriteStream(file, { mode: 0o600 });
    const logged = new Promise<void>((resolve) => log.once('close', resolve));
    const tail: string[] = [];
    const proc = spawn(cmd, args, {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...options.spawn,
    });
    for (const stream of [proc.stdout, proc.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        const fate = options.intercept?.(line) ?? 'show';
        if (fate === 'drop') return;
        log.write(`${line}\n`);
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        const shown =
          fate === 'always' || (fate === 'show' && (this.options.showLogs || ERROR_LINE.test(line)));
        if (shown) this.out.line(prefix + line);
      });
    }
    proc.on('error', (err) => this.out.line(`${prefix}failed to start: ${err.message}`));
    proc.on('exit', (code, signal) => {
      if (this.stopping) return;
      this.out.line(`${prefix}exited with ${signal ?? `code ${code}`}; its log: ${file}`);
      if (!this.options.showLogs) for (const line of tail) this.out.line(prefix + line);
      options.onUnexpectedExit?.(code, signal);
    });
    // After 'close' every output line has been read.
    proc.on('close', () => log.end());
    this.members.push({ name, proc, stopSignal: options.stopSignal ?? 'SIGTERM', logged });
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
   * Returns once the stopped children's logs are written.
   */
  async stop(
    tiers: readonly (readonly string[])[],
    { graceMs = 15_000, rest = true }: { graceMs?: number; rest?: boolean } = {},
  ): Promise<void> {
    this.stopping = true;
    const named = new Set(tiers.flat());
    const others = rest ? this.members.filter((m) => !named.has(m.name)).map((m) => m.name) : [];
    for (const tier of [...tiers, others]) {
      const members = this.members.filter((m) => tier.includes(m.name));
      await Promise.all(members.map((m) => terminate(m, graceMs)));
      // A grandchild still holding the pipe must not hold up the stop.
      await Promise.race([Promise.all(members.map((m) => m.logged)), delay(2_000)]);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
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
