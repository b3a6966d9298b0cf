import { performance } from 'node:perf_hooks';
import type { PackedTicketBatch, TicketBatchChecks } from '#app/ticket';

/**
 * Payments with fewer tickets are verified at once, not in slices: their signatures are a small
 * part of their cost, and a turn's wait costs them more than it spreads (recipient bench, 1-ticket
 * payments: about 5% fewer per second when sliced; e2e, 10-ticket payments: more per second).
 * Where between 1 and 10 the gain starts was not measured.
 */
export const SLICED_MIN_TICKETS = 4;

/**
 * A batch that has waited this long for a slice is verified in the next one whatever the budget:
 * when every turn brings more verification than a slice takes, the queue would otherwise grow
 * without bound, where verifying at once would have slowed the reading of new requests instead.
 */
export const SLICE_MAX_WAIT_MS = 50;

interface Job {
  batch: PackedTicketBatch;
  queuedAt: number;
  resolve(checks: TicketBatchChecks): void;
  reject(err: unknown): void;
}

/**
 * Verifies batches on this thread in slices of about `budgetMs` of work per event-loop turn,
 * leaving a whole turn between two slices.
 *
 * Why: payments arrive in bursts (a ProcessPayments call, many calls in one read). Verified all
 * at once, the burst's nonce script goes out only after the last signature, and every payment of
 * the burst is answered together, after all of them. Callers (a broadcaster's loops) then come
 * back together too, and the Sender and this service end up taking turns instead of working at
 * the same time. Sliced, the first payments' script is written and answered while later ones are
 * still being verified: a slice's payments that need no I/O before recording (no winner to store,
 * a known balance) reach the nonce ledger in the slice's turn, its flush runs in the next turn
 * (RedisNonceLedger gathers a turn's payments with setImmediate), and the next slice in the turn
 * after it, once the I/O that arrived meanwhile has been handled.
 *
 * A batch always runs whole (a slice holds at least one); order is first come, first verified.
 */
export class SlicedVerifier {
  private readonly queue: Job[] = [];
  private scheduled = false;

  /**
   * @param check the synchronous verification of one batch (the ticket library's, on this thread
   *   and its recovery helper)
   * @param budgetMs work per slice; a slice stops after the batch that reaches it
   * @param now the clock the budget and waits are measured with (injected by tests)
   */
  constructor(
    private readonly check: (batch: PackedTicketBatch) => TicketBatchChecks,
    private readonly budgetMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** This verifier as the `verify` option of `receiveTicketBatch` (a BatchVerifier). */
  readonly verify = (batch: PackedTicketBatch): Promise<TicketBatchChecks> =>
    new Promise<TicketBatchChecks>((resolve, reject) => {
      this.queue.push({ batch, queuedAt: this.now(), resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the turn's other arrivals have queued: they share the slice.
        setImmediate(() => this.runSlice());
      }
    });

  /** Batches waiting for a slice (for tests and diagnostics). */
  get waiting(): number {
    return this.queue.length;
  }

  private runSlice(): void {
    this.scheduled = false;
    const start = this.now();
    let job: Job | undefined;
    while ((job = this.queue.shift())) {
      try {
        job.resolve(this.check(job.batch));
      } catch (err) {
        job.reject(err);
      }
      const now = this.now();
      const overdue = this.queue.length > 0 && now - this.queue[0].queuedAt >= SLICE_MAX_WAIT_MS;
      if (now - start >= this.budgetMs && !overdue) break;
    }
    if (this.queue.length === 0) return;
    this.scheduled = true;
    // Two immediates: the next turn runs the flush this slice's payments scheduled (and the I/O
    // that arrived), the one after it the next slice.
    setImmediate(() => setImmediate(() => this.runSlice()));
  }
}
