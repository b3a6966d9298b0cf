/**
 * Says whether a condition that persists (the same key failing poll after poll) is worth a log line
 * now: the first time, then once per `everyMs` while it lasts, so a fault seen every few seconds for
 * minutes is reported without drowning the log. `clear` when it is over (the next one is new).
 */
export class RepeatNotice {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly everyMs: number,
    private readonly now: () => number = Date.now,
    /** Keys remembered at most; the oldest are forgotten (and reported again if they recur). */
    private readonly maxKeys = 10_000,
  ) {}

  /** True when `key` was not reported in the last `everyMs`; counts this as its report. */
  due(key: string): boolean {
    const at = this.now();
    const last = this.last.get(key);
    if (last !== undefined && at - last < this.everyMs) return false;
    this.last.delete(key);
    if (this.last.size >= this.maxKeys) this.last.delete(this.last.keys().next().value as string);
    this.last.set(key, at);
    return true;
  }

  clear(key: string): void {
    this.last.delete(key);
  }
}
