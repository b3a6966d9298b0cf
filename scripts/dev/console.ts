/**
 * The dev stack's terminal: log lines scroll, and on a TTY one status line stays at the bottom,
 * redrawn after every log line. Without a TTY (CI, pipes, tests) status changes are printed as
 * ordinary lines instead.
 */
export class Console {
  private status = '';
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    this.tty = stream.isTTY === true;
  }

  line(text: string): void {
    if (this.tty && this.status) this.stream.write(`\r\x1b[2K${text}\n${this.status}`);
    else this.stream.write(`${text}\n`);
  }

  /** Replaces the status line; without a TTY the text is printed only when it changed. */
  setStatus(text: string): void {
    if (this.tty) {
      this.status = text;
      this.stream.write(`\r\x1b[2K${text}`);
    } else if (text !== this.status) {
      this.status = text;
      this.stream.write(`${text}\n`);
    }
  }

  /** Leaves the status line behind as a normal line (before the last messages of a shutdown). */
  releaseStatus(): void {
    if (this.tty && this.status) this.stream.write('\n');
    this.status = '';
  }
}

/** Width of the name column before `│` (the longest name, demo-broadcaster, fits). */
export const NAME_WIDTH = 17;

/** The dev stack's own messages, prefixed like its children's. */
export function stackLine(msg: string): string {
  return `\x1b[1mticketpay\x1b[0m${' '.repeat(NAME_WIDTH - 'ticketpay'.length)}│ ${msg}`;
}
