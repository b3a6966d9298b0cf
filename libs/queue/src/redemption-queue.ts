import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { JobType, Queue } from 'bullmq';
import { BlockPace } from '#app/chain';
import { storedRevealBlock } from '#app/ticket';
import { WinningTicketRepository, WinningTicketStatus } from '#app/database';
import {
  DEFAULT_PARAMS_EXPIRY_MARGIN_BLOCKS,
  JobName,
  PARAMS_EXPIRY_MARGIN_BLOCKS,
  QUEUE_DEFAULTS,
  QueueName,
  redemptionPriority,
  type RedeemTicketJob,
  type TicketToQueue,
} from './queues.js';

/**
 * Longest delay of a new job's first run, whatever the block pace says: an estimate gone wrong
 * costs a few early runs (each waits in the Redeemer), never a long-parked winner.
 */
export const MAX_FIRST_RUN_DELAY_MS = 15 * 60_000;

/**
 * Blocks of slack a new job's first run gets on top of BlockPace's own: the Redeemer sees a block
 * up to one of its head polls after this process does, and a run that comes before that waits
 * another poll interval, while one that comes a quarter block late loses just that.
 */
const FIRST_RUN_SLACK_BLOCKS = 0.25;

/** A ticket just stored, for its first job: the job, and when its recipientRand may be revealed. */
export interface StoredTicketJob extends TicketToQueue {
  paramsExpirationBlock: bigint;
  /** The reveal block its Recipient stored with it, if any (storedRevealBlock). */
  revealBlock?: bigint | null;
}

/** What ensureDue did to a ticket's redemption job. */
export type JobAction =
  /**
   * No job existed (or it was in an unknown state): added, due at once or, given the params'
   * expiry, after firstRunDelay as the intake does.
   */
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

/** What redeem-now reports it did to a ticket's job: promoted out of its delay, (re-)created, or left as it was. */
export type RedeemNowJob = 'promoted' | 'enqueued' | 'unchanged';

/** Job states the services count (BullMQ's names). */
export type JobState = Extract<
  JobType,
  'waiting' | 'active' | 'delayed' | 'prioritized' | 'failed' | 'completed'
>;

/**
 * Every counted state, in the order reports list them: due jobs sit in `prioritized` (each has its
 * creation round as priority), jobs enqueued without one in `waiting`.
 */
export const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'failed',
  'completed',
] as const satisfies readonly JobState[];

export interface EnsureDueOptions {
  /** Promote a delayed job (redeem now); false leaves it to its delay (the reconciler). */
  promote: boolean;
  /** The row's status when the caller knows it: only a `received` row is then moved to `queued`. */
  status?: WinningTicketStatus;
  /**
   * When the ticket's params expire and its stored reveal block (the reconciler): a job re-created
   * for it waits for them as a new ticket's job does (firstRunDelay). Without (redeem now) a
   * re-created job is due at once.
   */
  reveal?: RevealTiming;
}

/** What a job's first run is timed by (storedRevealBlock). */
export type RevealTiming = Pick<StoredTicketJob, 'paramsExpirationBlock' | 'revealBlock'>;

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
    /** This process's L1 block pace (ChainModule), when it reads heads: times new jobs' first runs. */
    @Optional() private readonly pace?: BlockPace,
    @Optional()
    @Inject(PARAMS_EXPIRY_MARGIN_BLOCKS)
    private readonly marginBlocks: number = DEFAULT_PARAMS_EXPIRY_MARGIN_BLOCKS,
  ) {}

  /**
   * Moves a ticket whose job exists from `received` to `queued` (its job ran before the intake's
   * move): whether it moved. Every such move goes through this class.
   */
  markQueued(ticketHash: string): Promise<boolean> {
    return this.tickets.queue(ticketHash);
  }

  /** A ticket just stored: adds its job, then marks the row queued. */
  async enqueueStored(job: TicketToQueue): Promise<void> {
    await this.enqueue(job);
    await this.tickets.queue(job.ticketHash);
  }

  /**
   * `enqueueStored` for many tickets: one Redis round trip for the jobs, one statement for the
   * rows. Each job's first run is delayed until its params are due to have expired (firstRunDelay),
   * so that run usually redeems instead of finding them unexpired and sleeping again.
   */
  async enqueueStoredAll(tickets: readonly StoredTicketJob[]): Promise<void> {
    if (tickets.length === 0) return;
    const opts = QUEUE_DEFAULTS[QueueName.TICKET_REDEMPTION];
    await this.queue.addBulk(
      tickets.map((t) => ({
        name: JobName.REDEEM_TICKET,
        data: { ticketHash: t.ticketHash, sender: t.sender },
        opts: {
          ...opts,
          jobId: t.ticketHash,
          delay: this.firstRunDelay(t),
          priority: redemptionPriority(t.creationRound),
        },
      })),
    );
    await this.tickets.queueAll(tickets.map((t) => t.ticketHash));
  }

  /**
   * How long the first run of a new ticket's job waits: until its reveal block (the one stored with
   * it, else paramsExpirationBlock + the margin: storedRevealBlock) is due to be seen, by this
   * process's BlockPace, with FIRST_RUN_SLACK_BLOCKS more; 0 for a block seen already or while the
   * pace is unknown (no head read yet, or none read here), at most MAX_FIRST_RUN_DELAY_MS. Only a
   * schedule: the Redeemer checks the reveal block against its own head before revealing anything.
   */
  firstRunDelay(ticket: RevealTiming): number {
    const due = this.pace?.msUntil(storedRevealBlock(ticket, this.marginBlocks));
    if (due === undefined || !(due > 0)) return 0;
    const slack = FIRST_RUN_SLACK_BLOCKS * (this.pace?.blockMs ?? 0);
    return Math.min(Math.ceil(due + slack), MAX_FIRST_RUN_DELAY_MS);
  }

  /** Idempotent: the job id is the ticket hash, so enqueuing the same ticket twice adds one job. */
  async enqueue(ticket: TicketToQueue, delayMs = 0): Promise<void> {
    const job: RedeemTicketJob = { ticketHash: ticket.ticketHash, sender: ticket.sender };
    await this.queue.add(JobName.REDEEM_TICKET, job, {
      ...QUEUE_DEFAULTS[QueueName.TICKET_REDEMPTION],
      jobId: job.ticketHash,
      delay: delayMs,
      priority: redemptionPriority(ticket.creationRound),
    });
  }

  /**
   * "Redeem now" of a stored ticket whose row is not final, whoever asks (the Redeemer's ops API,
   * the CLI without one): its job made due now whatever its status, the row `queued` if it was
   * `received`. The Redeemer's worker does the rest as for any job.
   */
  async redeemNow(ticket: TicketToQueue & { status: WinningTicketStatus }): Promise<RedeemNowJob> {
    const { status, ...job } = ticket;
    switch (await this.ensureDue(job, { promote: true, status })) {
      case 'enqueued':
      case 're-enqueued':
        return 'enqueued';
      case 'promoted':
        return 'promoted';
      case 'delayed':
      case 'already-due':
      case 'in-flight':
        return 'unchanged';
    }
  }

  /**
   * Makes the ticket's job exist and, with `promote`, be due now: re-created when missing or
   * finished, promoted out of a delay, left alone when waiting or running; then the row is
   * `queued` (from `received`; any other status is left as it is). A job can change state
   * between reading and acting (a worker takes it, its delay ends), so a failed move is looked at
   * again (three tries).
   */
  async ensureDue(ticket: TicketToQueue, options: EnsureDueOptions): Promise<JobAction> {
    let action: JobAction;
    for (let attempt = 0; ; attempt++) {
      try {
        action = await this.ensureOnce(ticket, options);
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

  private async ensureOnce(ticket: TicketToQueue, options: EnsureDueOptions): Promise<JobAction> {
    const reveal = options.reveal;
    const enqueue = () => this.enqueue(ticket, reveal === undefined ? 0 : this.firstRunDelay(reveal));
    const job = await this.queue.getJob(ticket.ticketHash);
    if (!job) {
      await enqueue();
      return 'enqueued';
    }
    const state = await job.getState();
    switch (state) {
      case 'delayed':
        if (!options.promote) return 'delayed';
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
        await enqueue();
        return 're-enqueued';
      case 'unknown':
        await job.remove().catch(() => undefined);
        await enqueue();
        return 'enqueued';
    }
  }

  /**
   * After a settlement decided tickets whose jobs sleep while their tx is in flight: the job of a
   * `final` ticket is removed (its row is the record; nothing is left to do), the job of a ticket
   * to look at `again` (put back in line, or its tx not settled after all) is promoted out of its
   * sleep. Returns the jobs a worker holds right now
   * (locked: not removed; active: not promoted) for the caller to look at again.
   */
  async wake(
    final: readonly string[],
    again: readonly string[],
  ): Promise<{ final: string[]; woken: string[] }> {
    const busy = { final: [] as string[], woken: [] as string[] };
    await Promise.all([
      ...final.map(async (hash) => {
        if ((await this.queue.remove(hash)) === 0) busy.final.push(hash);
      }),
      ...again.map(async (hash) => {
        const job = await this.queue.getJob(hash);
        if (!job) return;
        // Only a delayed job can be promoted; a waiting one runs soon anyway.
        if (await job.isDelayed()) await job.promote().catch(() => busy.woken.push(hash));
        else if (await job.isActive()) busy.woken.push(hash);
      }),
    ]);
    return busy;
  }

  /** Ids of every job still to run (waiting, prioritized, delayed or active), in one Redis call. */
  async liveJobIds(): Promise<Set<string>> {
    const live: JobType[] = ['waiting', 'prioritized', 'delayed', 'active', 'waiting-children'];
    return new Set(await this.queue.getRanges(live, 0, -1));
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
