import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { JobType, Queue } from 'bullmq';
import { WinningTicketRepository, WinningTicketStatus } from '#app/database';
import { JobName, QUEUE_DEFAULTS, QueueName, type RedeemTicketJob } from './queues.js';

/** What ensureDue did to a ticket's redemption job. */
export type JobAction =
  /** No job existed (or it was in an unknown state): added without delay, as the intake does. */
  | 'enqueued'
  /** A completed or failed job was removed and the ticket enqueued again (its row is not final). */
  | 're-enqueued'
  /** A delayed job was moved to waiting. */
  | 'promoted'
  /** A delayed job was left delayed (`promote: false`). */
  | 'delayed'
  /** Already waiting for a worker. */
  | 'already-due'
  /** A worker holds it right now. */
  | 'in-flight';

/** Job states the services count (BullMQ's names). */
export type JobState = Extract<
  JobType,
  'waiting' | 'active' | 'delayed' | 'prioritized' | 'failed' | 'completed'
>;

export interface EnsureDueOptions {
  /** Promote a delayed job (redeem now); false leaves it to its delay (the reconciler). */
  promote: boolean;
  /** The row's status when the caller knows it: only a `received` row is then moved to `queued`. */
  status?: WinningTicketStatus;
}

/**
 * The redemption job lifecycle, in one place: enqueue a winning ticket already stored in Postgres,
 * make its job exist and be due, count jobs. Once a ticket's job exists its row moves received →
 * queued here, and nowhere else. The job id is the ticket hash, so a ticket has at most one job
 * however many callers (intake, reconciler, redeem-now) act on it at once.
 */
@Injectable()
export class RedemptionQueue {
  constructor(
    @InjectQueue(QueueName.TICKET_REDEMPTION) private readonly queue: Queue<RedeemTicketJob>,
    private readonly tickets: WinningTicketRepository,
  ) {}

  /** A ticket just stored: adds its job, then marks the row queued. */
  async enqueueStored(job: RedeemTicketJob): Promise<void> {
    await this.enqueue(job);
    await this.tickets.queue(job.ticketHash);
  }

  /** `enqueueStored` for many tickets: one Redis round trip for the jobs, one statement for the rows. */
  async enqueueStoredAll(jobs: readonly RedeemTicketJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const opts = QUEUE_DEFAULTS[QueueName.TICKET_REDEMPTION];
    await this.queue.addBulk(
      jobs.map((job) => ({
        name: JobName.REDEEM_TICKET,
        data: job,
        opts: { ...opts, jobId: job.ticketHash },
      })),
    );
    await this.tickets.queueAll(jobs.map((j) => j.ticketHash));
  }

  /** Idempotent: the job id is the ticket hash, so enqueuing the same ticket twice adds one job. */
  async enqueue(job: RedeemTicketJob, delayMs = 0): Promise<void> {
    await this.queue.add(JobName.REDEEM_TICKET, job, {
      ...QUEUE_DEFAULTS[QueueName.TICKET_REDEMPTION],
      jobId: job.ticketHash,
      delay: delayMs,
    });
  }

  /**
   * Makes the ticket's job exist and, with `promote`, be due now: re-created when missing or
   * finished, promoted out of a delay, left alone when waiting or running; then the row is
   * `queued` (from `received`; any other status is left as it is). A job can change state
   * between reading and acting (a worker takes it, its delay ends), so a failed move is looked at
   * again (three tries).
   */
  async ensureDue(ticket: RedeemTicketJob, options: EnsureDueOptions): Promise<JobAction> {
    let action: JobAction;
    for (let attempt = 0; ; attempt++) {
      try {
        action = await this.ensureOnce(ticket, options.promote);
        break;
      } catch (err) {
        if (attempt >= 2) throw err;
      }
    }
    if (options.status === undefined || options.status === WinningTicketStatus.RECEIVED) {
      await this.tickets.queue(ticket.ticketHash);
    }
    return action;
  }

  private async ensureOnce(ticket: RedeemTicketJob, promote: boolean): Promise<JobAction> {
    const job = await this.queue.getJob(ticket.ticketHash);
    if (!job) {
      await this.enqueue(ticket);
      return 'enqueued';
    }
    const state = await job.getState();
    switch (state) {
      case 'delayed':
        if (!promote) return 'delayed';
        await job.promote();
        return 'promoted';
      case 'waiting':
      case 'prioritized':
      case 'waiting-children':
        return 'already-due';
      case 'active':
        return 'in-flight';
      case 'failed':
      case 'completed':
        await job.remove();
        await this.enqueue(ticket);
        return 're-enqueued';
      case 'unknown':
        await job.remove().catch(() => undefined);
        await this.enqueue(ticket);
        return 'enqueued';
    }
  }

  /** Jobs per state, every asked state present (0 when none). */
  async counts<S extends JobState>(states: readonly S[]): Promise<Record<S, number>> {
    const raw = await this.queue.getJobCounts(...states);
    return Object.fromEntries(states.map((s) => [s, raw[s] ?? 0])) as Record<S, number>;
  }

  /** The BullMQ queue itself, for read-only views that need it whole (Bull Board): see queue-board.ts. */
  boardSource(): Queue<RedeemTicketJob> {
    return this.queue;
  }
}
