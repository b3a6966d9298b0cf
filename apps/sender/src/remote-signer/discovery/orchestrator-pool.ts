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
import {
  readRunnerDiscovery,
  runnerRefused,
  withRunners,
  type LiveRunner,
  type RunnerNode,
} from './live-runners.js';
import { getDiscovery, getOrchestrator } from './orchestrator-client.js';
import { OrchestratorSources } from './orchestrator-sources.js';

/** go-livepeer's bound on one GetOrchestrator call made for discovery. */
const ASK_TIMEOUT_MS = 3_000;
/** go-livepeer's bounds on an orchestrator's `GET /discovery`. */
const RUNNERS_TIMEOUT_MS = 2_000;
const MAX_RUNNERS_REPLY_BYTES = 1 << 20;

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
    // Each orchestrator's info and live runners are asked side by side, as go-livepeer does.
    const asked = await Promise.all(
      urls.map((url) => Promise.all([this.ask(url, request), this.runnersOf(url)])),
    );
    const byAddress = new Map<string, DiscoveredOrchestrator>();
    for (const [{ entry }] of asked) {
      if (entry && !byAddress.has(entry.address)) byAddress.set(entry.address, entry);
    }
    // Only an orchestrator this signer could pay lists runners (unlike go-livepeer, whose
    // discovery has neither allowlist nor contacts): a runner is reached, and paid, through it.
    const replies = asked.map(([{ payable, ceiling }, nodes]) => ({
      nodes: payable ? nodes : [],
      refused: (r: LiveRunner) => runnerRefused(r, ceiling),
    }));
    this.listed = withRunners([...byAddress.values()], replies, {
      filtered: (orchestrator, runner, reason) =>
        this.logger.log({
          msg: 'live runner not listed',
          orchestrator,
          runner: runner.url,
          app: runner.app,
          reason,
        }),
      conflict: (orchestrator, runner) =>
        this.logger.warn({
          msg: 'live runner listed twice unlike itself: the first kept',
          orchestrator,
          runner,
        }),
    });
    this.logger.log({ msg: 'orchestrator pool refreshed', asked: urls.length, listed: this.listed.length });
  }

  /**
   * One orchestrator's entry (undefined when unreachable, unreadable or not listable: logged),
   * whether it answered with a ticket recipient this signer may pay, and the highest price its
   * live runners may ask: SENDER_REMOTE_SIGNER_MAX_PRICE (go-livepeer's global max price), and
   * the recipient's contact `maxPricePerUnit`, whichever is lower.
   */
  private async ask(
    url: string,
    request: Uint8Array,
  ): Promise<{ entry?: DiscoveredOrchestrator; payable: boolean; ceiling?: Rational }> {
    try {
      const reply = await getOrchestrator(new URL(url), request, ASK_TIMEOUT_MS);
      const info = orchestratorInfoCodec.decode(reply);
      const recipientHex = bytesToHex(fitBytes(info.address, 20));
      const contact = this.contacts.find(recipientHex);
      const allowed = recipientAllowed(this.contacts.allowlist, contact);
      const payable = allowed && info.address.length > 0;
      const judged = allowed
        ? judgeOrchestrator(info, orchestratorCapabilityPricesCodec.decode(reply), (capability, model) =>
            lowest(
              modelMaxPrice(this.capabilityMaxPrices, capability, model) ?? this.maxPrice,
              contact?.maxPricePerPixel,
            ),
          )
        : { refused: `recipient ${recipientHex} is not in the contacts and the allowlist is on` };
      const ceiling = lowest(this.maxPrice, contact?.maxPricePerPixel);
      if ('entry' in judged) return { entry: judged.entry, payable, ceiling };
      this.logger.log({ msg: 'orchestrator not listed', orchestrator: url, reason: judged.refused });
      return { payable, ceiling };
    } catch (err) {
      this.logger.warn({
        msg: 'orchestrator not reached, or its reply unreadable',
        orchestrator: url,
        error: safeErrorMessage(err),
      });
      return { payable: false };
    }
  }

  /**
   * The live runners an orchestrator's `GET /discovery` lists (go-livepeer's remote discovery):
   * none when it has no such endpoint, fails, or answers what go-livepeer could not decode (logged).
   */
  private async runnersOf(url: string): Promise<RunnerNode[]> {
    try {
      return readRunnerDiscovery(
        await getDiscovery(new URL(url), RUNNERS_TIMEOUT_MS, MAX_RUNNERS_REPLY_BYTES),
      );
    } catch (err) {
      this.logger.debug({ msg: 'no live runners read', orchestrator: url, error: safeErrorMessage(err) });
      return [];
    }
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
