import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { FetchRequest, Network, type Provider } from 'ethers';
import { ChainError, ChainErrorCode } from './chain.error.js';
import { readChainId } from './chain-id.js';
import { LeanJsonRpcProvider } from './json-rpc-provider.js';
import type { ChainFactsOptions } from './chain-facts.js';

export interface ChainOptions {
  rpcUrl: string;
  /** Per JSON-RPC request; default 5 s. */
  requestTimeoutMs?: number;
  controllerAddress: string;
  /**
   * Settings of the polled chain facts (head, rounds, gas price); `false` when the service reads
   * none (it then polls nothing: e.g. the SenderMonitor, whose ChainWatcher owns the head).
   */
  facts?: Partial<ChainFactsOptions> | false;
}

export const CHAIN_OPTIONS = Symbol('CHAIN_OPTIONS');

const CONNECT_RETRY_MS = 2_000;
const CHAIN_ID_TIMEOUT_MS = 5_000;
/**
 * Per request. An RPC that accepts connections and never answers must fail calls (CHAIN_UNAVAILABLE
 * upstream) within a caller's deadline, not hang them for ethers' default of 5 minutes.
 */
const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

type ClosableProvider = Provider & { destroy(): void };

/**
 * The service's one connection to the chain, plus the Controller every other address comes from.
 *
 * The provider is created once the RPC has told its chain id, and pinned to it: ethers would
 * otherwise re-detect the network on its own and print to stdout while the RPC is down.
 */
@Injectable()
export class ChainClient implements OnModuleInit, OnApplicationShutdown {
  private current?: ClosableProvider;
  private retry?: NodeJS.Timeout;
  private closed = false;
  private readonly logger = new Logger(ChainClient.name);

  constructor(@Inject(CHAIN_OPTIONS) readonly options: ChainOptions) {}

  /** The connected provider; throws CHAIN_UNAVAILABLE until the RPC has answered once. */
  get provider(): ClosableProvider {
    if (!this.current) {
      throw new ChainError(ChainErrorCode.CHAIN_UNAVAILABLE, 'the chain RPC has not answered yet');
    }
    return this.current;
  }

  get connected(): boolean {
    return this.current !== undefined;
  }

  /**
   * A Controller address with no code behind it is a configuration error and stops the boot; an
   * RPC that does not answer yet is not: connecting goes on in the background and the health
   * check reports the chain down until it succeeds.
   */
  async onModuleInit(): Promise<void> {
    const problem = await this.tryConnect();
    if (problem) {
      this.logger.warn({
        msg: 'chain RPC not reachable at boot; retrying in the background',
        error: problem,
      });
      this.scheduleRetry();
      return;
    }
    const code = await this.provider.getCode(this.options.controllerAddress);
    if (code === '0x') {
      throw new Error(
        `CONTROLLER_ADDRESS ${this.options.controllerAddress} has no contract code on this chain`,
      );
    }
  }

  onApplicationShutdown(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.current?.destroy();
  }

  /** Connects when the RPC tells its chain id; otherwise why not (a message safe to log). */
  private async tryConnect(): Promise<string | undefined> {
    let chainId: bigint;
    try {
      chainId = await readChainId(this.options.rpcUrl, CHAIN_ID_TIMEOUT_MS);
    } catch (err) {
      return (err as Error).message;
    }
    if (this.closed) return 'the service is stopping';
    const network = Network.from(chainId);
    const request = new FetchRequest(this.options.rpcUrl);
    request.timeout = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.current = new LeanJsonRpcProvider(request, network, {
      staticNetwork: network,
      pollingInterval: 1_000,
    });
    this.logger.log({ msg: 'connected to chain', chainId: chainId.toString() });
    return undefined;
  }

  private scheduleRetry(): void {
    this.retry = setTimeout(() => {
      void this.tryConnect().then((problem) => {
        if (problem && !this.closed) this.scheduleRetry();
      });
    }, CONNECT_RETRY_MS);
  }
}
