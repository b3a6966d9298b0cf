import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { TxManager } from '#app/chain';
import { WinningTicketRepository, WinningTicketStatus } from '#app/database';
import { QueueName, RedemptionQueue, type RedeemTicketJob } from '#app/queue';
import { RedeemerMetrics } from '../metrics/redeemer.metrics.js';
import { RedeemerConfig } from '../redeemer.config.js';
import { InFlight } from './in-flight.js';

/** Tickets checked per pass; the oldest first, so nothing starves. */
const PASS_LIMIT = 10_000;

/**
 * Postgres is the queue's source of truth: every pass, each non-final ticket without a live job
 * (Redis flushed or lost, an enqueue that failed after the insert, a job that ended while the
 * ticket did not) gets its job back, and `received` tickets move to `queued`.
 */
@Injectable()
export class ReconcilerService {
  private readonly logger = new Logger(ReconcilerService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = true;
  /** Set by stop(): a running pass ends early. */
  private halted = false;

  constructor(
    private readonly config: RedeemerConfig,
    private readonly tickets: WinningTicketRepository,
    private readonly inFlight: InFlight,
    private readonly queue: RedemptionQueue,
    @InjectQueue(QueueName.TICKET_REDEMPTION) private readonly jobs: Queue<RedeemTicketJob>,
    private readonly metrics: RedeemerMetrics,
    private readonly txs: TxManager,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.halted = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.halted = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; returns how many jobs it re-created. */
  async reconcile(): Promise<number> {
    const recipients = this.config.servedRecipients(this.txs.address);
    let rebuilt = 0;
    for (const t of await this.tickets.openTickets(recipients, PASS_LIMIT)) {
      if (this.halted) break;
      if (this.inFlight.ticketBusy(t.ticketHash)) continue;
      const job = await this.jobs.getJob(t.ticketHash);
      const state = job ? await job.getState() : undefined;
      if (!job || state === 'completed' || state === 'failed' || state === 'unknown') {
        await job?.remove().catch(() => undefined);
        await this.queue.enqueue({ ticketHash: t.ticketHash, sender: t.sender });
        rebuilt++;
      }
      if (t.status === WinningTicketStatus.RECEIVED) {
        await this.tickets.queue(t.ticketHash);
      }
    }
    if (rebuilt > 0) {
      this.metrics.reconciled.inc(rebuilt);
      this.logger.warn({ msg: 'redemption jobs rebuilt from Postgres', rebuilt });
    }
    return rebuilt;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.reconcile();
      this.running
        .catch((err: unknown) =>
          this.logger.warn({ msg: 'reconcile pass failed', error: (err as Error).message }),
        )
        .finally(() => this.schedule(this.config.values.REDEEMER_RECONCILE_INTERVAL_MS));
    }, delayMs);
  }
}
