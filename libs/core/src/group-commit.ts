/** One caller's part of a group: its input and how to answer it. */
export interface GroupMember<T, R> {
  input: T;
  resolve(result: R): void;
  reject(err: unknown): void;
}

/**
 * A classic group commit: one group's work runs at a time; the calls that arrive meanwhile wait
 * and form the next group, which starts as soon as the running one returns (no timer: a lone call
 * starts at once). A group takes waiting calls in arrival order while their summed `size` stays
 * within `maxSize` (always at least one). `work` answers each member; should it throw, every
 * member it has not answered gets the error.
 */
export class GroupCommit<T, R> {
  private readonly waiting: GroupMember<T, R>[] = [];
  private waitingTotal = 0;
  private running = false;

  constructor(
    private readonly work: (group: readonly GroupMember<T, R>[]) => Promise<void>,
    private readonly size: (input: T) => number,
    private readonly maxSize: number,
  ) {}

  /** The summed size of the calls waiting for a group (the running group's not included). */
  get backlog(): number {
    return this.waitingTotal;
  }

  /** Resolves with what the work of the call's group gave it. */
  submit(input: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.waitingTotal += this.size(input);
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.waiting.length > 0) {
      const group = this.nextGroup();
      try {
        await this.work(group);
      } catch (err) {
        // Settling a member twice is a no-op: only the ones not yet answered see the error.
        for (const member of group) member.reject(err);
      }
    }
    this.running = false;
  }

  private nextGroup(): GroupMember<T, R>[] {
    let total = this.size(this.waiting[0].input);
    let n = 1;
    while (n < this.waiting.length) {
      const next = this.size(this.waiting[n].input);
      if (total + next > this.maxSize) break;
      total += next;
      n++;
    }
    this.waitingTotal -= total;
    return this.waiting.splice(0, n);
  }
}
