import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { safeErrorMessage } from '#app/core';
import {
  orchestratorCapabilityPricesCodec,
  orchestratorInfoCodec,
  orchestratorRequestCodec,
} from '#app/proto';
import { bytesToHex, fitBytes, keccak256, orchestratorInfoPayload, type Rational } from '#app/ticket';
import { SenderAccounts } from '../../accounts/sender-accounts.js';
import { ContactBook } from '../../contacts/contact-book.js';
import { SenderConfig } from '../../sender.config.js';
import { recipientAllowed } from '../../session/session-policy.js';
import { AccountSignatures } from '../account-signatures.js';
import { modelMaxPrice, type CapabilityMaxPrices } from '../capability-max-prices.js';
import { RemoteSignerError, RemoteSignerErrorCode } from '../remote-signer.error.js';
import { judgeOrchestrator, offering, type DiscoveredOrchestrator } from './discovery-entry.js';
import { getOrchestrator } from './orchestrator-client.js';
import { OrchestratorSources } from './orchestrator-sources.js';

/** go-livepeer's bound on one GetOrchestrator call made for discovery. */
const ASK_TIMEOUT_MS = 3_000;

/**
 * The remote signer's orchestrator pool (go-livepeer `-remoteDiscovery`): every interval it asks
 * each orchestrator for its info, as a gateway would, and keeps those it could pay and whose
 * prices are within this signer's ceilings. `GET /discover-orchestrators` answers from it; an
 * empty pool is refilled on demand (one refresh at a time, shared by concurrent requests).
 */
@Injectable()
export class OrchestratorPool implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OrchestratorPool.name);
  private readonly enabled: boolean;
  private readonly intervalMs: number;
  private readonly maxPrice: Rational | undefined;
  private readonly capabilityMaxPrices: CapabilityMaxPrices;
  private listed: DiscoveredOrchestrator[] = [];
  private refreshing?: Promise<void>;
  private timer?: NodeJS.Timeout;

  constructor(
    config: SenderConfig,
    private readonly sources: OrchestratorSources,
    private readonly accounts: SenderAccounts,
    private readonly signatures: AccountSignatures,
    private readonly contacts: ContactBook,
  ) {
    const v = config.values;
    this.enabled = v.SENDER_REMOTE_SIGNER_DISCOVERY;
    this.intervalMs = v.SENDER_REMOTE_SIGNER_DISCOVERY_INTERVAL_SECONDS * 1_000;
    this.maxPrice = v.SENDER_REMOTE_SIGNER_MAX_PRICE;
    this.capabilityMaxPrices = v.SENDER_REMOTE_SIGNER_MAX_PRICE_PER_CAPABILITY ?? new Map();
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The pool's orchestrators offering any of `caps` (all when none is named). */
  async list(caps: readonly string[]): Promise<DiscoveredOrchestrator[]> {
    if (!this.enabled) throw unavailable('no orchestrator pool configured');
    if (this.listed.length === 0) await this.refresh();
    if (this.listed.length === 0) throw unavailable('cache empty');
    return offering(this.listed, caps);
  }

  /** Asks every orchestrator again; resolves when the pool holds the answers (never rejects). */
  refresh(): Promise<void> {
    this.refreshing ??= this.poll()
      .catch((err: unknown) => {
        this.logger.warn({ msg: 'orchestrator discovery failed', error: safeErrorMessage(err) });
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private async poll(): Promise<void> {
    const request = await this.request();
    const urls = await this.sources.serviceUrls();
    const judged = await Promise.all(urls.map((url) => this.ask(url, request)));
    const byAddress = new Map<string, DiscoveredOrchestrator>();
    for (const entry of judged) {
      if (entry && !byAddress.has(entry.address)) byAddress.set(entry.address, entry);
    }
    this.listed = [...byAddress.values()];
    this.logger.log({ msg: 'orchestrator pool refreshed', asked: urls.length, listed: this.listed.length });
  }

  /** One orchestrator's entry, or undefined (unreachable, unreadable or not listable: logged). */
  private async ask(url: string, request: Uint8Array): Promise<DiscoveredOrchestrator | undefined> {
    try {
      const reply = await getOrchestrator(new URL(url), request, ASK_TIMEOUT_MS);
      const info = orchestratorInfoCodec.decode(reply);
      const recipientHex = bytesToHex(fitBytes(info.address, 20));
      const contact = this.contacts.find(recipientHex);
      const judged = recipientAllowed(this.contacts.allowlist, contact)
        ? judgeOrchestrator(info, orchestratorCapabilityPricesCodec.decode(reply), (capability, model) =>
            lowest(
              modelMaxPrice(this.capabilityMaxPrices, capability, model) ?? this.maxPrice,
              contact?.maxPricePerPixel,
            ),
          )
        : { refused: `recipient ${recipientHex} is not in the contacts and the allowlist is on` };
      if ('entry' in judged) return judged.entry;
      this.logger.log({ msg: 'orchestrator not listed', orchestrator: url, reason: judged.refused });
    } catch (err) {
      this.logger.warn({
        msg: 'orchestrator not reached, or its reply unreadable',
        orchestrator: url,
        error: safeErrorMessage(err),
      });
    }
    return undefined;
  }

  /**
   * GetOrchestrator's request, as a gateway sends it: the first sender account and its signature
   * of its own address (what /sign-orchestrator-info answers), every capability, no capacity check.
   */
  private async request(): Promise<Uint8Array> {
    const account = this.accounts.list()[0];
    if (!account) throw new Error('no sender account is loaded');
    const sig = await this.signatures.signPersonal(
      account,
      keccak256(orchestratorInfoPayload(account.address)),
    );
    return orchestratorRequestCodec.encode({
      address: account.address,
      sig,
      capabilities: new Uint8Array(0),
      ignoreCapacityCheck: true,
    });
  }
}

/** The lower of two ceilings; undefined ones do not bound. */
function lowest(a: Rational | undefined, b: Rational | undefined): Rational | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a.cmp(b) <= 0 ? a : b;
}

function unavailable(message: string): RemoteSignerError {
  return new RemoteSignerError(RemoteSignerErrorCode.DISCOVERY_UNAVAILABLE, message);
}
