import { FetchRequest, getBigInt, Network, type JsonRpcApiProvider } from 'ethers';
import { LeanJsonRpcProvider } from '../json-rpc-provider.js';
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
    this.network ??= Network.from(await this.chainId());
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

  private async chainId(): Promise<bigint> {
    const req = this.request();
    req.body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] });
    req.setHeader('content-type', 'application/json');
    const res = await req.send();
    res.assertOk();
    const body = res.bodyJson as { result?: string };
    if (typeof body.result !== 'string') throw new Error('eth_chainId returned no result');
    return getBigInt(body.result);
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

/** The RPC URL may embed an API key: neither it nor its path ever reaches a log or a client. */
export function redact(message: string, url: string): string {
  let out = message.split(url).join('[rpc]');
  try {
    const u = new URL(url);
    if (u.pathname.length > 1) out = out.split(u.pathname).join('/[redacted]');
    if (u.search) out = out.split(u.search).join('?[redacted]');
    if (u.password) out = out.split(u.password).join('[redacted]');
  } catch {
    // not a URL: the plain replacement above is all we can do
  }
  return out;
}
