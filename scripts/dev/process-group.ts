import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const COLORS = [36, 35, 33, 32, 34, 31];

/** Child processes started together, logging with a coloured name prefix, stopped together. */
export class ProcessGroup {
  private readonly children: { name: string; proc: ChildProcess }[] = [];
  private stopping = false;

  start(
    name: string,
    cmd: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    onExit?: (code: number | null) => void,
  ): ChildProcess {
    const color = COLORS[this.children.length % COLORS.length];
    const prefix = `\x1b[${color}m${name.padEnd(14)}\x1b[0m│ `;
    const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [proc.stdout, proc.stderr]) {
      createInterface({ input: stream }).on('line', (line) => process.stdout.write(prefix + line + '\n'));
    }
    proc.on('exit', (code) => {
      if (!this.stopping) process.stdout.write(`${prefix}exited with code ${code}\n`);
      onExit?.(code);
    });
    this.children.push({ name, proc });
    return proc;
  }

  /** SIGTERM (or `signal`) to every child, newest first, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const { proc } of [...this.children].reverse()) {
      if (proc.exitCode !== null || proc.signalCode !== null) continue;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
  }
}
