import type { Writable } from 'node:stream';

export type ProgressStream = Writable & { isTTY?: boolean; columns?: number };

const BAR_WIDTH = 20;

/**
 * Progress on stderr, so stdout stays clean for results and `--json`. On a terminal one line is
 * redrawn in place; otherwise (logs, pipes) a line is printed only when the state changes, and the
 * ticking details (elapsed time) are left out.
 */
export class Progress {
  private drawn = false;
  private lastStable = '';

  constructor(private readonly out: ProgressStream) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  /** `label [#####-----] done/total`; `note` is shown but does not count as a change. */
  bar(label: string, done: number, total: number, note = ''): void {
    const filled = total === 0 ? BAR_WIDTH : Math.round((Math.min(done, total) / total) * BAR_WIDTH);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
    this.show(`${label} ${bar} ${done}/${total}`, note);
  }

  /** A status line, e.g. `waiting for the Redeemer: queued`, with a ticking `note` (elapsed time). */
  status(text: string, note = ''): void {
    this.show(text, note);
  }

  /** Ends the current line (with a final text if given). */
  end(text?: string): void {
    if (text !== undefined) this.show(text, '');
    if (this.tty && this.drawn) this.out.write('\n');
    this.drawn = false;
    this.lastStable = '';
  }

  private show(stable: string, note: string): void {
    if (this.tty) {
      const line = note ? `${stable} ${note}` : stable;
      const width = this.out.columns ?? 0;
      this.out.write(`\r\x1b[2K${width > 1 ? line.slice(0, width - 1) : line}`);
      this.drawn = true;
    } else if (stable !== this.lastStable) {
      this.out.write(`${stable}\n`);
    }
    this.lastStable = stable;
  }
}
