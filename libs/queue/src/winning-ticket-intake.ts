import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { GroupCommit, RepeatNotice, type GroupMember } from '#app/core';
import { UNCLAIMED_STATUSES, WinningTicketRepository, type NewWinningTicket } from '#app/database';
import { bytesToHex, revealBlock, ticketHash, type SignedTicket } from '#app/ticket';
import { RedemptionQueue, type StoredTicketJob } from './redemption-queue.js';
import { RedemptionReconciler } from './redemption-reconciler.js';

/** The intake's own safety net: which stored tickets it re-enqueues when their job went missing, and how often. */
export interface IntakeOptions {
  /**
   * The recipients (lowercase 0x addresses) whose tickets this process takes in: deployments that
   * share a database but not a Redis prefix leave each other's tickets alone.
   */
  recipients: readonly string[];
  reconcileIntervalMs: number;
  /**
   * The accepting Recipient's reveal margin (RecipientConfig.revealMarginBlocks): each ticket is
   * stored with its reveal block, that many L1 blocks past its params' expiry, which the Redeemer
   * obeys. Absent: none stored (the Redeemer's own margin applies).
   */
  revealMarginBlocks?: number;
}

export const INTAKE_OPTIONS = Symbol('INTAKE_OPTIONS');

/**
 * Longest a caller's answer waits for its winners' jobs. They are stored already: a job a stalled
 * Redis has not taken by then is made by the enqueue still under way, or else by a reconciler. A
 * payment must not hang on the queue (BullMQ's connection waits for Redis as long as it takes).
 */
export const ENQUEUE_WAIT_MS = 2_000;

/**
 * Most jobs left waiting behind an enqueue that Redis has not answered. Past it, a group's jobs
 * are not offered at all: a long stall would otherwise hold every winner since in memory. Their
 * rows are stored (`received`), and a reconciler makes their jobs once Redis answers.
 */
export const ENQUEUE_BACKLOG_MAX = 5_000;

/** Tickets looked at per intake pass; a larger backlog is worked off over the following passes. */
const INTAKE_PASS_LIMIT = 1_000;

/**
 * Rows one group INSERT (and jobs one bulk enqueue) carries at most, from however many calls: a
 * backlog is written in several statements, none long enough to hold its first payments back for
 * long. A single call with more rows than this still goes whole, alone.
 */
const GROUP_MAX_ROWS = 500;

export interface IntakeResult {
  ticketHash: string;
  /** False when the same ticket had been stored before: nothing was written twice. */
  stored: boolean;
}

/**
 * The one way a winning ticket enters the system (Recipient's ProcessPayment and the
 * SenderMonitor's QueueTicket): commit it to Postgres first, then enqueue its redemption. A
 * ticket is never only in Redis; if the enqueue fails (or Redis loses the job), the reconciler
 * finds it: the Redeemer's over every open ticket of the recipients it serves, and with
 * `IntakeOptions` the intake's own over its recipients' tickets no worker has taken yet
 * (`received`, `queued`), so a Recipient running without a Redeemer still never leaves a stored
 * winner without a job. (The SenderMonitor's intake has none: its winners wait for their Redeemer.)
 */
@Injectable()
export class WinningTicketIntake implements OnApplicationBootstrap {
  private readonly logger = new Logger(WinningTicketIntake.name);
  private readonly requeuedListeners: ((count: number) => void)[] = [];
  /** Answers given before their jobs were enqueued: a warning a minute while Redis stalls. */
  private readonly slowEnqueue = new RepeatNotice(60_000);
  private readonly stores = new GroupCommit<NewWinningTicket[], IntakeResult[]>(
    (group) => this.store(group),
    (rows) => rows.length,
    GROUP_MAX_ROWS,
  );
  private readonly enqueues = new GroupCommit<StoredTicketJob[], void>(
    (group) => this.enqueue(group),
    (jobs) => jobs.length,
    GROUP_MAX_ROWS,
  );

  constructor(
    private readonly tickets: WinningTicketRepository,
    private readonly queue: RedemptionQueue,
    private readonly reconciler: RedemptionReconciler,
    @Optional() @Inject(INTAKE_OPTIONS) private readonly options?: IntakeOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.options) return;
    const recipients = this.options.recipients;
    this.reconciler.start({
      recipients: () => recipients,
      statuses: UNCLAIMED_STATUSES,
      limit: INTAKE_PASS_LIMIT,
      intervalMs: this.options.reconcileIntervalMs,
      onRebuilt: (count) => this.requeuedListeners.forEach((listener) => listener(count)),
    });
  }

  /** Called with how many jobs a pass of the intake's reconciler re-created (for metrics). */
  onRequeued(listener: (count: number) => void): void {
    this.requeuedListeners.push(listener);
  }

  async accept(ticket: SignedTicket): Promise<IntakeResult> {
    return (await this.acceptAll([ticket]))[0];
  }

  /**
   * `accept` for a payment's winners. Concurrent calls are committed together (GroupCommit): one
   * INSERT for every waiting call's rows, then one bulk enqueue; a call returns once the INSERT
   * holding its rows committed and its jobs were offered to Redis, and an INSERT that fails fails
   * every call of its group. Idempotent by ticket hash like `accept`: a ticket is `stored` for one
   * caller only (the first, at its first place), however many calls carry it. One result per
   * ticket, in order.
   */
  async acceptAll(tickets: readonly SignedTicket[]): Promise<IntakeResult[]> {
    if (tickets.length === 0) return [];
    const margin = this.options?.revealMarginBlocks;
    return this.stores.submit(tickets.map((t) => toWinningTicketRow(t, margin)));
  }

  /**
   * Takes back tickets a caller stored (`stored: true`) for a payment that was then refused, unless
   * a redemption claimed them meanwhile or another call offered them too (that call's payment may
   * have been credited for them); their jobs find no row and are dropped by the Redeemer. Returns
   * the hashes removed. Only for a caller's own `stored` tickets: a ticket another call stored is
   * that call's to keep.
   */
  async withdraw(ticketHashes: readonly string[]): Promise<string[]> {
    return this.tickets.deleteUnclaimed(ticketHashes);
  }

  /** One INSERT for a group of calls; their answers wait for the group's jobs, the next INSERT does not. */
  private async store(group: readonly GroupMember<NewWinningTicket[], IntakeResult[]>[]): Promise<void> {
    // The same ticket twice (in one payment or in two at once) is one row and one job, offered by
    // each call that carries it (withdraw takes back only a row one call offered).
    const unique = new Map<string, NewWinningTicket>();
    const offers = new Map<string, number>();
    for (const member of group) {
      for (const row of member.input) {
        if (!unique.has(row.ticketHash)) unique.set(row.ticketHash, row);
      }
      for (const hash of new Set(member.input.map((r) => r.ticketHash))) {
        offers.set(hash, (offers.get(hash) ?? 0) + 1);
      }
    }
    const inserted = await this.tickets.insertAllIfAbsent(
      [...unique.values()],
      [...unique.keys()].map((hash) => offers.get(hash)!),
    );
    const results = group.map((member) =>
      member.input.map((r) => ({ ticketHash: r.ticketHash, stored: inserted.delete(r.ticketHash) })),
    );
    const jobs = [...unique.values()].map((r) => ({
      ticketHash: r.ticketHash,
      sender: r.sender,
      creationRound: r.creationRound,
      paramsExpirationBlock: r.paramsExpirationBlock,
      revealBlock: r.revealBlock,
    }));
    const answer = () => group.forEach((member, i) => member.resolve(results[i]));
    if (this.enqueues.backlog + jobs.length > ENQUEUE_BACKLOG_MAX) {
      if (this.slowEnqueue.due('backlog')) {
        this.logger.warn({
          msg: `winners stored, not enqueued: ${this.enqueues.backlog} jobs already wait for Redis; a reconciler makes theirs`,
          tickets: jobs.length,
        });
      }
      answer();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    // Settled either way: a failed enqueue logs itself, and the reconciler makes the jobs.
    const enqueued = this.enqueues.submit(jobs).then(
      () => true,
      () => true,
    );
    const waited = new Promise<boolean>(
      (resolve) => (timer = setTimeout(() => resolve(false), ENQUEUE_WAIT_MS)),
    );
    void Promise.race([enqueued, waited]).then((done) => {
      clearTimeout(timer);
      if (!done && this.slowEnqueue.due('enqueue')) {
        this.logger.warn({
          msg: `winners stored, their jobs not enqueued within ${ENQUEUE_WAIT_MS} ms (Redis slow or away): answered, the enqueue goes on`,
          tickets: jobs.length,
        });
      }
      answer();
    });
  }

  /** One bulk enqueue for the jobs of every group committed meanwhile; never throws. */
  private async enqueue(group: readonly GroupMember<StoredTicketJob[], void>[]): Promise<void> {
    // Consecutive groups may carry the same ticket (a replay): one job each suffices.
    const jobs = [...new Map(group.flatMap((member) => member.input).map((j) => [j.ticketHash, j])).values()];
    try {
      await this.queue.enqueueStoredAll(jobs);
    } catch (err) {
      // Stored is what matters for the callers' answers; the reconciler re-enqueues `received` rows.
      this.logger.error({
        msg: 'enqueue failed, left for the reconciler',
        ticketHashes: jobs.map((j) => j.ticketHash),
        error: (err as Error).message,
      });
    }
    for (const member of group) member.resolve();
  }
}

/**
 * The row for a signed ticket: byte fields as 0x-prefixed lowercase hex, integers as bigint; with
 * `revealMarginBlocks`, its reveal block that many blocks past its params' expiry.
 */
export function toWinningTicketRow(t: SignedTicket, revealMarginBlocks?: number): NewWinningTicket {
  return {
    ticketHash: bytesToHex(ticketHash(t)),
    recipient: bytesToHex(t.recipient),
    sender: bytesToHex(t.sender),
    faceValue: t.faceValue,
    winProb: t.winProb,
    senderNonce: BigInt(t.senderNonce),
    recipientRandHash: bytesToHex(t.recipientRandHash),
    creationRound: t.creationRound,
    creationRoundBlockHash: bytesToHex(t.creationRoundBlockHash),
    paramsExpirationBlock: t.paramsExpirationBlock,
    revealBlock:
      revealMarginBlocks === undefined ? null : revealBlock(t.paramsExpirationBlock, revealMarginBlocks),
    sig: bytesToHex(t.sig),
    recipientRand: t.recipientRand,
  };
}
