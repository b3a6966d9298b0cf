import { FetchRequest, Network, type JsonRpcApiProvider } from 'ethers';
import { readChainId } from '../chain-id.js';
import { LeanJsonRpcProvider } from '../json-rpc-provider.js';
import { redact } from '../redact-rpc-url.js';
import { WatcherError, WatcherErrorCode } from './watcher.error.js';

/**
 * The JSON-RPC connection the watchers read through. `provider()` connects lazily and
 * `reconnect()` drops the connection so the next call opens a fresh one: after an outage the
 * watchers reconnect by themselves instead of reusing a provider stuck on a dead endpoint.
 */
export abstract class RpcEndpoint {
  abstract provider(): Promise<JsonRpcApiProvider>;
  abstract reconnect(): void;
  abstract destroy(): void;
  /** A failure as a WatcherError whose message is safe to log (no URL, hence no API key). */
  abstract failure(err: unknown): WatcherError;
}

/**
 * An HTTP(S) endpoint owned by the watchers: requests time out after `timeoutMs` (go-livepeer's
 * `ethRPCTimeout`, 20 s, bounds each call) and the chain id is read once, with a single raw
 * request, so a reconnect never enters ethers' endless network detection loop.
 */
export class HttpRpcEndpoint extends RpcEndpoint {
  private current?: LeanJsonRpcProvider;
  private connecting?: Promise<JsonRpcApiProvider>;
  private network?: Network;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {
    super();
  }

  provider(): Promise<JsonRpcApiProvider> {
    if (this.current) return Promise.resolve(this.current);
    // Concurrent first calls share one connection attempt.
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<JsonRpcApiProvider> {
    this.network ??= Network.from(await readChainId(this.url, this.timeoutMs));
    this.current ??= new LeanJsonRpcProvider(this.request(), this.network, {
      staticNetwork: this.network,
      // Reads of one poll are issued together; batching them makes one HTTP round trip.
      batchStallTime: 5,
      cacheTimeout: -1,
    });
    return this.current;
  }

  reconnect(): void {
    this.current?.destroy();
    this.current = undefined;
  }

  destroy(): void {
    this.reconnect();
  }

  failure(err: unknown): WatcherError {
    if (err instanceof WatcherError) return err;
    return new WatcherError(WatcherErrorCode.RPC_FAILED, redact(describe(err), this.url), { cause: err });
  }

  private request(): FetchRequest {
    const req = new FetchRequest(this.url);
    req.timeout = this.timeoutMs;
    return req;
  }
}

/**
 * Reads through a provider someone else owns (the ChainClient's WebSocket provider): ethers v6
 * WebSocket providers cannot reconnect, so `reconnect()` is a no-op here.
 */
export class SharedRpcEndpoint extends RpcEndpoint {
  constructor(
    private readonly shared: JsonRpcApiProvider,
    private readonly url: string,
  ) {
    super();
  }

  provider(): Promise<JsonRpcApiProvider> {
    return Promise.resolve(this.shared);
  }

  reconnect(): void {}

  destroy(): void {}

  failure(err: unknown): WatcherError {
    if (err instanceof WatcherError) return err;
    return new WatcherError(WatcherErrorCode.RPC_FAILED, redact(describe(err), this.url), { cause: err });
  }
}

function describe(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { shortMessage?: unknown; code?: unknown; message?: unknown };
    if (typeof e.shortMessage === 'string') {
      return typeof e.code === 'string' ? `${e.shortMessage} (${e.code})` : e.shortMessage;
    }
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}
