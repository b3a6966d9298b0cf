import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { JsonRpcProvider, WebSocketProvider, type Provider } from 'ethers';
import type { ChainFactsOptions } from './chain-facts.js';

export interface ChainOptions {
  rpcUrl: string;
  controllerAddress: string;
  facts?: Partial<ChainFactsOptions>;
}

export const CHAIN_OPTIONS = Symbol('CHAIN_OPTIONS');

/** The service's one connection to the chain, plus the Controller every other address comes from. */
@Injectable()
export class ChainClient implements OnModuleInit, OnApplicationShutdown {
  readonly provider: Provider & { destroy(): void };
  private readonly logger = new Logger(ChainClient.name);

  constructor(@Inject(CHAIN_OPTIONS) readonly options: ChainOptions) {
    this.provider = /^wss?:/.test(options.rpcUrl)
      ? new WebSocketProvider(options.rpcUrl)
      : new JsonRpcProvider(options.rpcUrl, undefined, { staticNetwork: false, pollingInterval: 1_000 });
  }

  /**
   * A Controller address with no code behind it is a configuration error and stops the boot; an
   * RPC that does not answer yet is not (the health check reports it until it does).
   */
  async onModuleInit(): Promise<void> {
    let code: string;
    try {
      code = await this.provider.getCode(this.options.controllerAddress);
    } catch (err) {
      this.logger.warn({ msg: 'chain RPC not reachable at boot', error: (err as Error).message });
      return;
    }
    if (code === '0x') {
      throw new Error(
        `CONTROLLER_ADDRESS ${this.options.controllerAddress} has no contract code on this chain`,
      );
    }
  }

  onApplicationShutdown(): void {
    this.provider.destroy();
  }
}
