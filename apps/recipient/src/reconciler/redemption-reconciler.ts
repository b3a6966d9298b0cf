import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { WinningTicketRepository, WinningTicketStatus } from '#app/database';
import { QueueName, RedemptionQueue, type RedeemTicketJob } from '#app/queue';
import { RecipientMetrics } from '../metrics/recipient.metrics.js';
import { RecipientConfig } from '../recipient.config.js';

/** Rows looked at per pass; a larger backlog is worked off over the following passes. */
const BATCH = 1_000;

/**
 * Postgres is the source of truth for winning tickets; the BullMQ queue can be lost (Redis
 * flushed, an enqueue that failed after the insert). On boot and then periodically, every ticket
 * still `received` or `queued` whose redemption job is missing is enqueued again (the job id is
 * the ticket hash, so replicas doing this at once add one job), and `received` rows whose job
 * exists move to `queued`.
 */
@Injectable()
export class RedemptionReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RedemptionReconciler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = false;

  constructor(
    private readonly config: RecipientConfig,
    private readonly tickets: WinningTicketRepository,
    private readonly redemptions: RedemptionQueue,
    @InjectQueue(QueueName.TICKET_REDEMPTION) private readonly queue: Queue<RedeemTicketJob>,
    private readonly metrics: RecipientMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.tick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; returns how many jobs were enqueued again. Concurrent calls share one pass. */
  reconcile(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<number> {
    const rows = await this.tickets.openTickets(undefined, BATCH, [
      WinningTicketStatus.RECEIVED,
      WinningTicketStatus.QUEUED,
    ]);
    let requeued = 0;
    for (const row of rows) {
      if (!(await this.queue.getJob(row.ticketHash))) {
        await this.redemptions.enqueue({ ticketHash: row.ticketHash, sender: row.sender });
        requeued++;
        this.logger.warn({ msg: 'redemption job was missing, enqueued again', ticketHash: row.ticketHash });
      }
      if (row.status === WinningTicketStatus.RECEIVED) {
        await this.tickets.queue(row.ticketHash);
      }
    }
    if (requeued > 0) this.metrics.reconcilerRequeued.inc(requeued);
    return requeued;
  }

  private tick(): void {
    this.reconcile()
      .catch((err: unknown) =>
        this.logger.warn({ msg: 'reconciliation failed', error: (err as Error).message }),
      )
      .finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(
          () => this.tick(),
          this.config.values.RECIPIENT_RECONCILE_INTERVAL_SECONDS * 1000,
        );
        this.timer.unref();
      });
  }
}
