import type { Server } from 'node:http';
import {
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ChainClient, classifyChainError, TxManager } from '#app/chain';
import { HealthRunner, stopTakingHttpRequests } from '#app/common';
import { SignerLease, type RecipientConflict } from '#app/database';
import { RedemptionReconciler, RedemptionWorker, type ReconcileScope } from '#app/queue';
import { RedeemerMetrics } from './metrics/redeemer.metrics.js';
import { RedeemerConfig } from './redeemer.config.js';
import { InFlight } from './redemption/in-flight.js';
import { RedemptionService } from './redemption/redemption.service.js';
import { RoundEndMargin } from './redemption/round-end-margin.js';
import { SettlementService } from './redemption/settlement.service.js';

/**
 * `standby`: another replica with this signer is active (or activation is under way); `blocked`:
 * this signer's lease is held but another Redeemer serves some of its recipients.
 */
export type RedeemerState = 'starting' | 'standby' | 'blocked' | 'active' | 'stopping';

const RETRY_MS = 2_000;
/**
 * How long shutdown lets /ops calls in flight finish before it stops the workers (a redeem-now is a
 * few statements; a fee withdrawal waits for its tx, which is recovered at the next start if cut).
 */
const HTTP_DRAIN_MS = 5_000;
/** Tickets the reconciler checks per pass; the oldest first, so nothing starves. */
const RECONCILE_PASS_LIMIT = 10_000;

/**
 * Brings redemption up in the only safe order, in the background so the service's health and
 * metrics answer meanwhile: signer lease (one submitter per signer) → recipient leases (one
 * Redeemer per recipient, all of REDEEMER_RECIPIENTS or none) → round-end margin rebuilt
 * from the signer's mined txs → tx manager (pending txs re-broadcast, nonce reconciled) →
 * recovery of tickets caught mid-flight by a crash → worker → reconciler. Shutdown runs the
 * other way, before connections close, once the HTTP server takes no more requests and has
 * answered those in flight: an /ops call never finds the workers stopped under it.
 */
@Injectable()
export class RedeemerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RedeemerLifecycle.name);
  private current: RedeemerState = 'starting';
  private stopping = false;
  private activation?: Promise<void>;
  /** Bumped when the lease is lost: an activation of an older lease gives up. */
  private epoch = 0;
  private conflicts: readonly RecipientConflict[] = [];
  private readonly activeWaiters: (() => void)[] = [];

  constructor(
    private readonly config: RedeemerConfig,
    private readonly lease: SignerLease,
    private readonly chain: ChainClient,
    private readonly txs: TxManager,
    private readonly redemptions: RedemptionService,
    private readonly settlement: SettlementService,
    private readonly worker: RedemptionWorker,
    private readonly reconciler: RedemptionReconciler,
    private readonly inFlight: InFlight,
    private readonly metrics: RedeemerMetrics,
    private readonly margin: RoundEndMargin,
    private readonly health: HealthRunner,
    @Optional() private readonly http?: HttpAdapterHost,
  ) {}

  get state(): RedeemerState {
    return this.current;
  }

  /** Recipients of REDEEMER_RECIPIENTS another Redeemer serves (empty unless `blocked`). */
  get recipientConflicts(): readonly RecipientConflict[] {
    return this.conflicts;
  }

  /** Resolves once workers run (for tests and the status endpoint). */
  whenActive(): Promise<void> {
    if (this.current === 'active') return Promise.resolve();
    return new Promise((resolve) => this.activeWaiters.push(resolve));
  }

  onApplicationBootstrap(): void {
    this.health.add({
      name: 'recipients',
      check: () =>
        this.current === 'blocked'
          ? Promise.reject(new Error(`served by another redeemer: ${conflictSummary(this.conflicts)}`))
          : Promise.resolve({}),
    });
    this.activation = this.activateUntilDone();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await stopTakingHttpRequests(
      this.http?.httpAdapter?.getHttpServer() as Server | undefined,
      HTTP_DRAIN_MS,
      this.logger,
    );
    this.stopping = true;
    this.current = 'stopping';
    this.redemptions.stop();
    await this.activation?.catch(() => undefined);
    await this.reconciler.stop();
    await this.worker.close();
    await this.txs.stop();
    // Before the database closes: a settlement writing its outcome now finishes (bounded wait).
    await this.settlement.stop();
    await this.lease.release();
  }

  /** Every step is idempotent, so a failed activation (chain or database down) is simply run again. */
  private async activateUntilDone(): Promise<void> {
    // One activation per lease: after a loss, onLeaseLost runs a new one and this one gives up.
    const epoch = this.epoch;
    while (!this.gaveUp(epoch)) {
      try {
        await this.activate(epoch);
        return;
      } catch (err) {
        const error = classifyChainError(err);
        this.logger.warn({ msg: 'activation failed; retrying', code: error.code, error: error.message });
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private async activate(epoch: number): Promise<void> {
    this.current = 'standby';
    if (!this.lease.held) {
      const leased = await this.lease.acquire(
        this.txs.address,
        () => this.stopping,
        () => void this.onLeaseLost(),
      );
      if (!leased) return;
    }
    if (!(await this.leaseRecipients(epoch))) return;
    // Before the tx manager: the first sends near a round's end get the margin already learned.
    await this.margin.restore(this.txs.address);
    await this.txs.start();
    if (this.gaveUp(epoch)) return;
    await this.redemptions.recoverAtBoot();
    if (this.gaveUp(epoch)) return;
    this.worker.start(this.config.values.REDEEMER_CONCURRENCY);
    this.reconciler.start(this.reconcileScope());
    this.current = 'active';
    this.logger.log({ msg: 'redeemer active', signer: this.txs.address });
    for (const resolve of this.activeWaiters.splice(0)) resolve();
  }

  /** Stopping, or the lease this activation ran under was lost (onLeaseLost runs a new one). */
  private gaveUp(epoch: number): boolean {
    return this.stopping || this.epoch !== epoch;
  }

  /**
   * Waits until every recipient served is leased to this signer: a list that overlaps another
   * Redeemer's (or `*` next to any other) serves nothing, rather than the part it could lease, so
   * a misconfiguration cannot go unnoticed and the served set never changes while running. Said
   * once per change in the log, and in the state, /health and a metric meanwhile. False when
   * stopping or when the signer lease was lost (a new activation then runs).
   */
  private async leaseRecipients(epoch: number): Promise<boolean> {
    // Recipients are per chain; the chain id is static once the RPC has answered.
    const { chainId } = await this.chain.provider.getNetwork();
    const served = this.config.servedRecipients(this.txs.address);
    let told = '';
    while (!this.gaveUp(epoch) && this.lease.held) {
      this.conflicts = await this.lease.leaseRecipients(chainId, served);
      this.metrics.recipientConflicts.set(this.conflicts.length);
      if (this.conflicts.length === 0) return true;
      this.current = 'blocked';
      const summary = JSON.stringify(this.conflicts);
      if (summary !== told) {
        this.logger.error({
          msg: 'REDEEMER_RECIPIENTS overlap another redeemer (another signer); serving nothing until they are released',
          signer: this.txs.address,
          conflicts: this.conflicts,
        });
      }
      told = summary;
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
    return false;
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
    this.epoch++;
    this.current = 'standby';
    this.conflicts = [];
    this.metrics.recipientConflicts.set(0);
    await this.worker.pause();
    await this.reconciler.stop();
    await this.txs.stop();
    this.activation = this.activateUntilDone();
  }
}

/** `0xab… (by 0xcd…), *` — what another Redeemer serves, for /health. */
function conflictSummary(conflicts: readonly RecipientConflict[]): string {
  return conflicts
    .map((c) => (c.holders.length > 0 ? `${c.recipient} (by ${c.holders.join(', ')})` : c.recipient))
    .join(', ');
}
