import {
  Injectable,
  Module,
  Optional,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { JsonRpcApiProvider } from 'ethers';
import { BlockPace } from '../block-pace.js';
import { ChainClient } from '../chain-client.js';
import { ChainWatcher, type ChainWatcherOptions } from './chain-watcher.js';
import { HttpRpcEndpoint, SharedRpcEndpoint, type RpcEndpoint } from './rpc-endpoint.js';

export type ChainWatcherModuleOptions = Omit<ChainWatcherOptions, 'controllerAddress'> & {
  /** Per-request timeout of the watchers' own HTTP connection (go-livepeer: 20 s). */
  rpcTimeoutMs: number;
};

const WATCHER_OPTIONS = Symbol('CHAIN_WATCHER_OPTIONS');

/** Starts the watcher with the application and stops it on shutdown; its heads feed the BlockPace. */
@Injectable()
class ChainWatcherLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly watcher: ChainWatcher,
    @Optional() private readonly pace?: BlockPace,
  ) {}

  async onModuleInit(): Promise<void> {
    const pace = this.pace;
    if (pace) this.watcher.heads$.subscribe((head) => pace.observe(head.l1Block));
    // The first poll runs before the app serves, so a reachable chain is synced at boot; an
    // unreachable one is retried by the poll loop (health reports it meanwhile).
    await this.watcher.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.watcher.stop();
  }
}

/**
 * The chain watchers (blocks, rounds, TicketBroker events, gas price) on the connection and
 * Controller of the global ChainModule. HTTP(S) endpoints get a connection of their own, which the
 * watcher reopens after failures; a WebSocket endpoint is shared with the ChainClient.
 */
@Module({})
export class ChainWatcherModule {
  static forRoot(options: ChainWatcherModuleOptions): DynamicModule {
    return {
      module: ChainWatcherModule,
      providers: [
        { provide: WATCHER_OPTIONS, useValue: options },
        {
          provide: ChainWatcher,
          inject: [ChainClient, WATCHER_OPTIONS],
          useFactory: (client: ChainClient, opts: ChainWatcherModuleOptions) => {
            const { rpcTimeoutMs, ...watcherOptions } = opts;
            const { rpcUrl, controllerAddress } = client.options;
            const endpoint: RpcEndpoint =
              /^wss?:/.test(rpcUrl) && client.provider instanceof JsonRpcApiProvider
                ? new SharedRpcEndpoint(client.provider, rpcUrl)
                : new HttpRpcEndpoint(rpcUrl, rpcTimeoutMs);
            return new ChainWatcher(endpoint, { ...watcherOptions, controllerAddress });
          },
        },
        ChainWatcherLifecycle,
      ],
      exports: [ChainWatcher],
    };
  }
}
