import type { PackedTicketBatch, TicketBatchChecks } from '#app/ticket';

interface Job {
  batch: PackedTicketBatch;
  resolve(checks: TicketBatchChecks): void;
  reject(err: unknown): void;
}

/**
 * Verifies the batches that reach verification in one event-loop turn together, at the turn's
 * end (a ProcessPayments call's payments all arrive in one turn): their signature recoveries
 * then form one set, which a RecoveryHelper shares with its thread. Verified one by one as each
 * arrived, every set would be a single signature, too small to share.
 */
export class TurnVerifier {
  private queue: Job[] = [];

  /** @param checkAll the synchronous verification of several batches (`verifyPackedBatches`) */
  constructor(private readonly checkAll: (batches: PackedTicketBatch[]) => TicketBatchChecks[]) {}

  /** This verifier as the `verify` option of `receiveTicketBatch` (a BatchVerifier). */
  readonly verify = (batch: PackedTicketBatch): Promise<TicketBatchChecks> =>
    new Promise<TicketBatchChecks>((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => this.run());
    });

  private run(): void {
    const jobs = this.queue;
    this.queue = [];
    try {
      const checks = this.checkAll(jobs.map((job) => job.batch));
      jobs.forEach((job, i) => job.resolve(checks[i]));
    } catch {
      // One batch the library refuses must not fail the others: each alone, with its own error.
      for (const job of jobs) {
        try {
          job.resolve(this.checkAll([job.batch])[0]);
        } catch (err) {
          job.reject(err);
        }
      }
    }
  }
}
