import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { HealthProbe } from '#app/common';
import { BlockPace } from './block-pace.js';
import { CHAIN_OPTIONS, ChainClient, type ChainOptions } from './chain-client.js';
import { CHAIN_FACTS_OPTIONS, ChainFacts, RpcChainFacts, type ChainFactsOptions } from './chain-facts.js';

const DEFAULT_FACTS_OPTIONS: ChainFactsOptions = {
  l1BlockSource: 'auto',
  pollIntervalMs: 1_000,
  minGasPrice: 0n,
};

@Injectable()
export class ChainProbe extends HealthProbe {
  readonly name = 'chain';

  constructor(private readonly chain: ChainClient) {
    super();
  }

  async check(): Promise<Record<string, unknown>> {
    const [network, block] = await Promise.all([
      this.chain.provider.getNetwork(),
      this.chain.provider.getBlockNumber(),
    ]);
    return { chainId: network.chainId.toString(), block };
  }
}

/**
 * The chain connection, and the polled chain facts (head, rounds, gas price) unless the service
 * reads none (`facts: false`): one poller per service, never one beside a ChainWatcher. The
 * process's BlockPace too, fed by whichever of the two reads the heads (none: the pace stays
 * unknown).
 */
@Module({})
export class ChainModule {
  static forRoot(options: ChainOptions): DynamicModule {
    const facts =
      options.facts === false
        ? []
        : [
            { provide: CHAIN_FACTS_OPTIONS, useValue: { ...DEFAULT_FACTS_OPTIONS, ...options.facts } },
            { provide: ChainFacts, useClass: RpcChainFacts },
          ];
    return {
      module: ChainModule,
      global: true,
      providers: [
        { provide: CHAIN_OPTIONS, useValue: options },
        ChainClient,
        { provide: BlockPace, useValue: new BlockPace() },
        ...facts,
      ],
      exports: [ChainClient, BlockPace, ...(facts.length > 0 ? [ChainFacts] : [])],
    };
  }
}
