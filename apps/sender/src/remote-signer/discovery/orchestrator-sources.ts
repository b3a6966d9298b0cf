import { Injectable, Logger, type Provider } from '@nestjs/common';
import { ChainClient, ChainFacts, readOrchestratorPool } from '#app/chain';
import {
  OrchestratorWebhookClient,
  webhookEntryAddress,
  type OrchestratorWebhookOptions,
} from './orchestrator-webhook.js';

/** Where discovery's orchestrator service URLs come from. */
export abstract class OrchestratorSources {
  abstract serviceUrls(): Promise<string[]>;
}

/** SENDER_REMOTE_SIGNER_ORCHESTRATORS (go-livepeer `-orchAddr`), as configured. */
export class ListedOrchestrators extends OrchestratorSources {
  constructor(private readonly urls: readonly string[]) {
    super();
  }

  serviceUrls(): Promise<string[]> {
    return Promise.resolve([...this.urls]);
  }
}

/**
 * The on-chain pool, read afresh on each refresh: BondingManager's transcoders with the service
 * URI each published in the ServiceRegistry (go-livepeer's discovery without `-orchAddr`). A URI
 * discovery cannot dial is left out, logged.
 */
@Injectable()
export class ChainOrchestrators extends OrchestratorSources {
  private readonly logger = new Logger(ChainOrchestrators.name);

  constructor(
    private readonly chain: ChainClient,
    private readonly facts: ChainFacts,
  ) {
    super();
  }

  async serviceUrls(): Promise<string[]> {
    const urls: string[] = [];
    for (const { address, serviceUri } of await readOrchestratorPool(
      this.chain.provider,
      this.facts.addresses,
    )) {
      try {
        urls.push(orchestratorServiceUrl(serviceUri));
      } catch (err) {
        this.logger.log({
          msg: 'orchestrator service URI skipped',
          orchestrator: address,
          reason: (err as Error).message,
        });
      }
    }
    return urls;
  }
}

/** go-livepeer refetches its orchestrator webhook at most once a minute. */
export const WEBHOOK_CACHE_MS = 60_000;

export interface WebhookOrchestratorsOptions extends OrchestratorWebhookOptions {
  /** How long an answer is reused; a failed call is not. */
  cacheMs?: number;
  now?: () => number;
}

/**
 * SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL (go-livepeer `-orchWebhookUrl`): the list a webhook
 * answers, asked again once the last good answer is a minute old. An address discovery cannot
 * dial is left out, logged; an unusable answer fails the call (the pool keeps what it listed).
 */
export class WebhookOrchestrators extends OrchestratorSources {
  private readonly logger = new Logger(WebhookOrchestrators.name);
  private readonly client: OrchestratorWebhookClient;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private cached?: { urls: string[]; at: number };

  constructor(url: string, options: WebhookOrchestratorsOptions = {}) {
    super();
    this.client = new OrchestratorWebhookClient(url, options);
    this.cacheMs = options.cacheMs ?? WEBHOOK_CACHE_MS;
    this.now = options.now ?? Date.now;
  }

  async serviceUrls(): Promise<string[]> {
    if (this.cached && this.now() - this.cached.at < this.cacheMs) return [...this.cached.urls];
    const urls = new Set<string>();
    for (const [index, entry] of (await this.client.entries()).entries()) {
      try {
        urls.add(orchestratorServiceUrl(webhookEntryAddress(entry)));
      } catch (err) {
        this.logger.log({
          msg: 'orchestrator webhook entry skipped',
          entry: index,
          reason: (err as Error).message,
        });
      }
    }
    this.cached = { urls: [...urls], at: this.now() };
    return [...urls];
  }
}

/** Where discovery's orchestrators come from, as configured. */
export interface OrchestratorSourceSettings {
  /** SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL */
  webhookUrl: string | undefined;
  /** SENDER_REMOTE_SIGNER_ORCHESTRATORS */
  listed: readonly string[];
}

/**
 * The webhook when there is one, else the configured list when there is one, else the chain's
 * pool (go-livepeer's order). Both a webhook and a list are refused at boot (SenderBoot).
 */
export function orchestratorSources({ webhookUrl, listed }: OrchestratorSourceSettings): Provider {
  if (webhookUrl !== undefined) {
    return { provide: OrchestratorSources, useValue: new WebhookOrchestrators(webhookUrl) };
  }
  return listed.length > 0
    ? { provide: OrchestratorSources, useValue: new ListedOrchestrators(listed) }
    : { provide: OrchestratorSources, useClass: ChainOrchestrators };
}

/**
 * An orchestrator's address as discovery dials it, `https://host[:port]`, from `host:port` or an
 * https URL (go-livepeer's `-orchAddr` and ServiceRegistry forms; gRPC over TLS, so http is refused).
 */
export function orchestratorServiceUrl(entry: string): string {
  const trimmed = entry.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new Error(`${JSON.stringify(entry.slice(0, 200))} is not host:port or an https URL`);
  }
  // Not echoed: what looks like user:password must not reach a log.
  if (u.username !== '' || u.password !== '')
    throw new Error('an orchestrator address must not carry credentials');
  if (u.protocol !== 'https:')
    throw new Error(`${JSON.stringify(entry.slice(0, 200))}: orchestrators serve https only`);
  return `https://${u.host}`;
}
