import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { safeErrorMessage } from '#app/core';
import { ticketHashText } from '#app/ticket';
import { DelayedError, UnrecoverableError, type Job, type WorkerOptions } from 'bullmq';
import { QueueName, redemptionBackoffMs, type RedeemTicketJob } from './queues.js';

/** What the handler decided for the ticket of a job. */
export type RedemptionJobResult =
  /** Final status reached: the job completes. */
  | { kind: 'done'; status: string }
  /**
   * Look again in `delayMs` (a wait or a back-off): parked without using up an attempt. `holdAll`:
   * the wait holds every ticket alike (the chain's round), so this process takes no other job
   * until it ends rather than fetch, judge and park each one the same way.
   */
  | { kind: 'later'; code: string; delayMs: number; holdAll?: boolean }
  /** The job names no ticket this process may redeem: failed for good. */
  | { kind: 'invalid'; reason: string };

/** The port the Redeemer implements: moves one ticket as far as it can go now. */
export abstract class RedemptionJobHandler {
  abstract process(ticketHash: string): Promise<RedemptionJobResult>;
  /**
   * How long the job of `ticketHash` is parked after its `errors`-th run in a row that threw
   * (process rejected): the handler's own back-off, which can cut it to what the ticket has left.
   * Without it, or if it rejects, the worker falls back to redemptionBackoffMs.
   */
  errorDelay?(ticketHash: string, errors: number): Promise<number>;
}

/** The worker's BullMQ options (see RedemptionWorker). */
export const REDEMPTION_WORKER_OPTIONS = {
  autorun: false,
  lockDuration: 10_000,
  stalledInterval: 5_000,
  // REDEMPTION_BACKOFF: BullMQ's exponential back-off of a job's attempts would have no ceiling.
  settings: { backoffStrategy: (attemptsMade: number) => redemptionBackoffMs(attemptsMade) },
} satisfies Partial<WorkerOptions>;

/**
 * The redemption queue's one processor: decode the job, let the handler move the ticket, then
 * finish the job (final status), park it until its next check (waits and back-off do not use up
 * attempts), or fail it for good (a job that names no ticket). A run that throws (Postgres or the
 * chain unreachable) parks the job too, for the delay the handler gives for the errors in a row
 * (errorDelay, counted in the job's data; redemptionBackoffMs for a handler that gives none), not
 * BullMQ's own exponential back-off, which has no ceiling and would sleep hours after a long
 * outage, past the ticket's expiry. Created stopped (`autorun: false`): its owner starts, pauses
 * and closes it.
 *
 * A job held by a process that died (kill -9 while its ticket sat in a batch) is handed to a live
 * worker once its lock lapses: a short lock (renewed every 5 s) and a stalled-job check every 5 s
 * bring it back within ~15 s instead of BullMQ's default ~60 s — short next to a ticket's validity.
 */
@Processor(QueueName.TICKET_REDEMPTION, REDEMPTION_WORKER_OPTIONS)
export class RedemptionWorker extends WorkerHost {
  private readonly logger = new Logger(RedemptionWorker.name);
  /** The end of a hold (hold()), while one is on. */
  private holding?: NodeJS.Timeout;

  constructor(private readonly handler: RedemptionJobHandler) {
    super();
  }

  async process(job: Job<RedeemTicketJob>, token?: string): Promise<string> {
    const ticketHash = ticketHashText(job.data?.ticketHash);
    if (ticketHash === undefined) throw new UnrecoverableError('job has no valid ticketHash');
    let result: RedemptionJobResult;
    try {
      result = await this.handler.process(ticketHash);
    } catch (err) {
      const errors = (typeof job.data.errors === 'number' ? job.data.errors : 0) + 1;
      if (errors === 1) {
        this.logger.warn({
          msg: 'redemption run failed; retried with back-off',
          ticketHash,
          error: safeErrorMessage(err),
        });
      }
      const delayMs = await this.errorDelay(ticketHash, errors);
      await job.updateData({ ...job.data, errors });
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError(err instanceof Error ? err.name : 'Error');
    }
    // A run that went through ends the streak: the next error backs off from the start again.
    if (job.data.errors !== undefined && result.kind !== 'done') {
      const data = { ...job.data };
      delete data.errors;
      await job.updateData(data);
    }
    switch (result.kind) {
      case 'done':
        return result.status;
      case 'invalid':
        throw new UnrecoverableError(result.reason);
      case 'later':
        await job.moveToDelayed(Date.now() + result.delayMs, token);
        if (result.holdAll) this.hold(result.delayMs);
        throw new DelayedError(result.code);
    }
  }

  /** The handler's delay after the `errors`-th thrown run in a row, else redemptionBackoffMs. */
  private async errorDelay(ticketHash: string, errors: number): Promise<number> {
    if (!this.handler.errorDelay) return redemptionBackoffMs(errors);
    try {
      const ms = await this.handler.errorDelay(ticketHash, errors);
      if (Number.isFinite(ms) && ms >= 0) return ms;
    } catch (err) {
      this.logger.warn({ msg: 'no error delay from the handler', ticketHash, error: safeErrorMessage(err) });
    }
    return redemptionBackoffMs(errors);
  }

  /**
   * Takes no new job for `ms` (jobs running go on), unless its owner has stopped it or a hold is
   * on already. At a round's end the whole backlog would otherwise be fetched and parked again, a
   * run, a note and a Redis move per ticket, the CPU the redemptions themselves need.
   */
  private hold(ms: number): void {
    if (this.holding) return;
    const worker = this.worker;
    if (worker.isPaused() || !worker.isRunning()) return;
    void worker.pause(true);
    this.holding = setTimeout(() => {
      this.holding = undefined;
      void worker.resume();
    }, ms);
  }

  /** Ends a hold without resuming: the owner decides what comes next. */
  private endHold(): void {
    clearTimeout(this.holding);
    this.holding = undefined;
  }

  /** Starts taking jobs, `concurrency` at a time, or resumes after pause() (a hold ends). */
  start(concurrency: number): void {
    this.endHold();
    const worker = this.worker;
    worker.concurrency = concurrency;
    if (worker.isPaused()) void worker.resume();
    else if (!worker.isRunning()) {
      worker
        .run()
        .catch((err: unknown) => this.logger.error({ msg: 'worker stopped', error: (err as Error).message }));
    }
  }

  /** Stops taking jobs at once (running ones are not waited for); a hold ends without resuming. */
  async pause(): Promise<void> {
    this.endHold();
    await this.worker.pause(true);
  }

  async close(): Promise<void> {
    this.endHold();
    await this.worker.close().catch(() => undefined);
  }

  /** Redis trouble (e.g. a job's keys vanished in a flush): logged; the reconciler rebuilds lost jobs. */
  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.logger.warn({ msg: 'redemption worker error', error: err.message });
  }
}
