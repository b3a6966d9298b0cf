import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import {
  OPEN_STATUSES,
  WinningTicketRepository,
  WinningTicketStatus,
  type OpenTicketCursor,
} from '#app/database';
import { RedemptionQueue } from './redemption-queue.js';

/** Which tickets a reconciler looks after, and how often. */
export interface ReconcileScope {
  /** Only tickets paying these recipients (read each pass); undefined = all. */
  recipients?: () => readonly string[] | undefined;
  /** Only tickets in these statuses; default: every non-final one. */
  statuses?: readonly WinningTicketStatus[];
  /**
   * Tickets looked at per pass, oldest first; a larger backlog is worked off over the next passes
   * (each goes on after the last ticket of the one before, and starts over once one comes up short).
   */
  limit: number;
  /** Tickets a worker of this process holds right now: their jobs are not touched. */
  skip?: (ticketHash: string) => boolean;
  /**
   * Called with 1 as soon as each job is re-created, not at the end of the pass: a long pass does
   * not lag behind the tickets it brought back, and one that fails later does not lose the count.
   */
  onRebuilt?: (count: number) => void;
  intervalMs: number;
}

/**
 * Postgres is the queue's source of truth: every pass, each ticket of the scope without a live job
 * (Redis flushed or lost, an enqueue that failed after the insert, a job that ended while the
 * ticket did not) gets its job back, and `received` tickets move to `queued`. The one
 * implementation; the Redeemer runs it over every open ticket it serves, and the intake over the
 * tickets no worker has taken yet, so a Recipient alone still never leaves a stored winner
 * without a job. Job ids are ticket hashes, so replicas reconciling at once add one job.
 */
@Injectable()
export class RedemptionReconciler implements BeforeApplicationShutdown {
  private readonly logger = new Logger(RedemptionReconciler.name);
  private scope?: ReconcileScope;
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  /** Where the next pass goes on from; none: from the oldest. */
  private cursor?: OpenTicketCursor;
  /** Set by stop(): no new pass, and a running one ends early. */
  private halted = true;

  constructor(
    private readonly tickets: WinningTicketRepository,
    private readonly queue: RedemptionQueue,
  ) {}

  /** Runs a pass now and then every `scope.intervalMs` until stop(). */
  start(scope: ReconcileScope): void {
    if (!this.halted) return;
    this.scope = scope;
    this.cursor = undefined;
    this.halted = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.halted = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /**
   * Before any onApplicationShutdown hook: a pass still running ends while the queue's Redis
   * connection and the database pool are open (Nest does not order those hooks between providers,
   * and a pass caught by their close was seen to keep the app from closing).
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** One pass over the started scope; returns how many jobs it re-created. Concurrent calls share one pass. */
  reconcile(): Promise<number> {
    const scope = this.scope;
    if (!scope) return Promise.resolve(0);
    this.running ??= this.pass(scope).finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(scope: ReconcileScope): Promise<number> {
    const statuses = scope.statuses ?? OPEN_STATUSES;
    let rebuilt = 0;
    const open = await this.tickets.openTickets(scope.recipients?.(), scope.limit, statuses, this.cursor);
    const last = open.at(-1);
    const next: OpenTicketCursor | undefined =
      open.length < scope.limit || !last
        ? undefined
        : { storedAt: last.storedAt, ticketHash: last.ticketHash };
    // One read of the live job ids instead of two Redis reads per ticket: only a ticket without a
    // live job, or still `received`, is looked at one by one.
    const live = await this.queue.liveJobIds();
    const suspects = open.filter((t) => t.status === WinningTicketStatus.RECEIVED || !live.has(t.ticketHash));
    // Read again: a ticket decided since the first read (its job removed by its settlement) is left alone.
    const still = new Set(
      (await this.tickets.findByHashes(suspects.map((t) => t.ticketHash)))
        .filter((r) => OPEN_STATUSES.includes(r.status))
        .map((r) => r.ticketHash),
    );
    const failed: { ticketHash: string; error: string }[] = [];
    for (const t of suspects) {
      if (this.halted) break;
      if (!still.has(t.ticketHash) || scope.skip?.(t.ticketHash)) continue;
      let action: Awaited<ReturnType<RedemptionQueue['ensureDue']>>;
      try {
        action = await this.queue.ensureDue(
          { ticketHash: t.ticketHash, sender: t.sender, creationRound: t.creationRound },
          { promote: false, status: t.status, reveal: t },
        );
      } catch (err) {
        // One ticket's failure must not stop the pass at it (every pass would stop there, and the
        // tickets after it would never be looked at): the others go on, it is looked at next time.
        failed.push({ ticketHash: t.ticketHash, error: (err as Error).message });
        continue;
      }
      if (action === 'enqueued' || action === 're-enqueued') {
        rebuilt++;
        scope.onRebuilt?.(1);
        this.logger.warn({ msg: 'redemption job was missing, enqueued again', ticketHash: t.ticketHash });
      }
    }
    if (failed.length > 0) {
      this.logger.warn({
        msg: 'redemption jobs not checked: looked at again by a later pass',
        tickets: failed.length,
        first: failed[0],
      });
    }
    // A halted pass is read again; one that went through moves on, also past tickets that failed
    // (the pages wrap round: they are looked at again then, and one failing for good holds no one up).
    if (!this.halted) this.cursor = next;
    return rebuilt;
  }

  private schedule(delayMs: number): void {
    if (this.halted) return;
    this.timer = setTimeout(() => {
      this.reconcile()
        .catch((err: unknown) =>
          this.logger.warn({ msg: 'reconcile pass failed', error: (err as Error).message }),
        )
        .finally(() => this.schedule(this.scope!.intervalMs));
    }, delayMs);
    this.timer.unref();
  }
}
