import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { ChainClient } from '#app/chain';
import { HealthRunner, MetricsRegistry } from '#app/common';
import { RepeatNotice, safeErrorMessage, withTimeout } from '#app/core';
import { RedeemerLeases } from '#app/database';
import { RecipientConfig } from './recipient.config.js';

/** A lookup that does not answer in this time counts as unknown (a scrape must not hang). */
const LOOKUP_TIMEOUT_MS = 2_000;
const WARN_EVERY_MS = 10 * 60_000;
/** Unserved this long before the first warning: at a stack's start the Redeemer leases after. */
const WARN_AFTER_MS = 60_000;

/**
 * Whether a Redeemer serves this Recipient's address (its recipient lease: SignerLease). The
 * Recipient stores winners whatever the answer (a Redeemer may start later), but winners nobody
 * redeems expire after ticketValidityPeriod rounds, and each of the four services is told which
 * recipients it serves on its own: the lease is what says whether they agree. Shown in /health's
 * `redeemer` entry (up either way: payments are still taken), as recipient_redeemer_serving, and
 * as a warning (at most every 10 minutes) when a read of either finds it 0 for a minute or more
 * (not at a stack's start, when the Redeemer leases after the Recipient is up).
 */
@Injectable()
export class RedeemerPresence implements OnApplicationBootstrap {
  private readonly logger = new Logger(RedeemerPresence.name);
  private readonly notice = new RepeatNotice(WARN_EVERY_MS);
  /** Since when the lookups have found no Redeemer (undefined while one serves). */
  private unservedSince?: number;

  constructor(
    private readonly leases: RedeemerLeases,
    private readonly chain: ChainClient,
    private readonly config: RecipientConfig,
    private readonly health: HealthRunner,
    metrics: MetricsRegistry,
  ) {
    const serving = () => this.serving();
    new Gauge({
      name: 'recipient_redeemer_serving',
      help: "1 while a Redeemer holds this recipient's lease, 0 while none does (its winners wait)",
      registers: [metrics.registry],
      async collect() {
        const served = await serving();
        if (served !== undefined) this.set(served ? 1 : 0);
      },
    });
  }

  onApplicationBootstrap(): void {
    this.health.add({
      name: 'redeemer',
      check: async () => {
        const served = await this.serving();
        return served === undefined
          ? { serving: 'unknown' }
          : { serving: served, ...(served ? {} : { message: this.warning() }) };
      },
    });
  }

  /** True or false, or undefined when it cannot be told now (database or RPC away). */
  async serving(): Promise<boolean | undefined> {
    try {
      const served = await withTimeout(
        this.lookup(),
        LOOKUP_TIMEOUT_MS,
        `no answer within ${LOOKUP_TIMEOUT_MS} ms`,
      );
      this.unservedSince = served ? undefined : (this.unservedSince ?? Date.now());
      const long = this.unservedSince !== undefined && Date.now() - this.unservedSince >= WARN_AFTER_MS;
      if (long && this.notice.due('unserved')) this.logger.warn({ msg: this.warning() });
      return served;
    } catch (err) {
      this.logger.debug({ msg: 'redeemer lease not looked up', error: safeErrorMessage(err) });
      return undefined;
    }
  }

  private async lookup(): Promise<boolean> {
    const { chainId } = await this.chain.provider.getNetwork();
    return this.leases.recipientServed(chainId, this.config.values.RECIPIENT_ADDRESS);
  }

  private warning(): string {
    return (
      `no Redeemer serves ${this.config.values.RECIPIENT_ADDRESS}: winners stored here wait, and expire ` +
      'unredeemed after the ticket validity period (is one running, with REDEEMER_RECIPIENTS naming this address?)'
    );
  }
}
