import { Injectable, Logger, type Provider } from '@nestjs/common';
import { ChainClient, ChainFacts, readOrchestratorPool } from '#app/chain';

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

/** The configured list when there is one, else the chain's pool. */
export function orchestratorSources(listed: readonly string[]): Provider {
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
