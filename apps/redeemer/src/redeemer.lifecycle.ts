import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { classifyChainError, TxManager } from '#app/chain';
import { SignerLease } from '#app/database';
import { RedemptionReconciler, RedemptionWorker, type ReconcileScope } from '#app/queue';
import { RedeemerMetrics } from './metrics/redeemer.metrics.js';
import { RedeemerConfig } from './redeemer.config.js';
import { InFlight } from './redemption/in-flight.js';
import { RedemptionService } from './redemption/redemption.service.js';
import { RoundEndMargin } from './redemption/round-end-margin.js';

export type RedeemerState = 'starting' | 'standby' | 'active' | 'stopping';

const RETRY_MS = 2_000;
/** Tickets the reconciler checks per pass; the oldest first, so nothing starves. */
const RECONCILE_PASS_LIMIT = 10_000;

/**
 * Brings redemption up in the only safe order, in the background so the service's health and
 * metrics answer meanwhile: signer lease (one submitter per signer) → round-end margin rebuilt
 * from the signer's mined txs → tx manager (pending txs re-broadcast, nonce reconciled) →
 * recovery of tickets caught mid-flight by a crash → worker → reconciler. Shutdown runs the
 * other way, before connections close.
 */
@Injectable()
export class RedeemerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RedeemerLifecycle.name);
  private current: RedeemerState = 'starting';
  private stopping = false;
  private activation?: Promise<void>;
  private readonly activeWaiters: (() => void)[] = [];

  constructor(
    private readonly config: RedeemerConfig,
    private readonly lease: SignerLease,
    private readonly txs: TxManager,
    private readonly redemptions: RedemptionService,
    private readonly worker: RedemptionWorker,
    private readonly reconciler: RedemptionReconciler,
    private readonly inFlight: InFlight,
    private readonly metrics: RedeemerMetrics,
    private readonly margin: RoundEndMargin,
  ) {}

  get state(): RedeemerState {
    return this.current;
  }

  /** Resolves once workers run (for tests and the status endpoint). */
  whenActive(): Promise<void> {
    if (this.current === 'active') return Promise.resolve();
    return new Promise((resolve) => this.activeWaiters.push(resolve));
  }

  onApplicationBootstrap(): void {
    this.activation = this.activateUntilDone();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.current = 'stopping';
    this.redemptions.stop();
    await this.activation?.catch(() => undefined);
    await this.reconciler.stop();
    await this.worker.close();
    await this.txs.stop();
    await this.lease.release();
  }

  /** Every step is idempotent, so a failed activation (chain or database down) is simply run again. */
  private async activateUntilDone(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.activate();
        return;
      } catch (err) {
        const error = classifyChainError(err);
        this.logger.warn({ msg: 'activation failed; retrying', code: error.code, error: error.message });
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private async activate(): Promise<void> {
    this.current = 'standby';
    if (!this.lease.held) {
      const leased = await this.lease.acquire(
        this.txs.address,
        () => this.stopping,
        () => void this.onLeaseLost(),
      );
      if (!leased) return;
    }
    // Before the tx manager: the first sends near a round's end get the margin already learned.
    await this.margin.restore(this.txs.address);
    await this.txs.start();
    if (this.stopping) return;
    await this.redemptions.recoverAtBoot();
    if (this.stopping) return;
    this.worker.start(this.config.values.REDEEMER_CONCURRENCY);
    this.reconciler.start(this.reconcileScope());
    this.current = 'active';
    this.logger.log({ msg: 'redeemer active', signer: this.txs.address });
    for (const resolve of this.activeWaiters.splice(0)) resolve();
  }

  /**
   * The Redeemer owns the reconciler: every open ticket of the recipients it serves gets its job
   * back when Redis lost it, except those a worker here holds right now.
   */
  private reconcileScope(): ReconcileScope {
    return {
      recipients: () => this.config.servedRecipients(this.txs.address),
      limit: RECONCILE_PASS_LIMIT,
      intervalMs: this.config.values.REDEEMER_RECONCILE_INTERVAL_MS,
      skip: (ticketHash) => this.inFlight.ticketBusy(ticketHash),
      // The reconciler logs each rebuilt job itself.
      onRebuilt: (rebuilt) => this.metrics.reconciled.inc(rebuilt),
    };
  }

  /** The lease's connection failed: stop sending at once, then try to become active again. */
  private async onLeaseLost(): Promise<void> {
    if (this.stopping) return;
    this.current = 'standby';
    await this.worker.pause();
    await this.reconciler.stop();
    await this.txs.stop();
    this.activation = this.activateUntilDone();
  }
}
