import {
  FetchRequest,
  JsonRpcProvider,
  makeError,
  type JsonRpcApiProviderOptions,
  type JsonRpcError,
  type JsonRpcPayload,
  type JsonRpcResult,
  type Networkish,
} from 'ethers';
import { httpGetUrl } from './http-get-url.js';

/** A request waiting for its batch, serialized once. */
interface QueuedRequest {
  payload: JsonRpcPayload;
  json: string;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

const destroyedError = (method: string) =>
  makeError('provider destroyed; cancelled request', 'UNSUPPORTED_OPERATION', { operation: method });

const missingAnswerError = (payload: JsonRpcPayload, results: JsonRpcResult[]) =>
  makeError('missing response for request', 'BAD_DATA', { value: results, info: { payload } });

/**
 * A JsonRpcProvider whose request and response bodies go through Node's UTF-8 codec: ethers'
 * pure-JS one cost the Redeemer more CPU than the JSON itself (receipts of batches and their
 * calldata are tens of kB). Its batching serializes each request once: ethers' re-serializes the
 * whole batch for every request it adds, quadratic in the batch (a burst of the Redeemer's
 * simulations spent more CPU there than on the calls). Same batches (batchMaxCount, batchMaxSize,
 * batchStallTime), same requests, same responses, same errors. Its HTTP goes through httpGetUrl.
 */
export class LeanJsonRpcProvider extends JsonRpcProvider {
  private queued: QueuedRequest[] = [];
  private drainTimer: NodeJS.Timeout | null = null;
  private nextRequestId = 1;

  constructor(url: string | FetchRequest, network?: Networkish, options?: JsonRpcApiProviderOptions) {
    const request = typeof url === 'string' ? new FetchRequest(url) : url.clone();
    request.getUrlFunc = httpGetUrl;
    super(request, network, options);
  }

  override send(method: string, params: unknown[] | Record<string, unknown>): Promise<unknown> {
    if (this.destroyed) return Promise.reject(destroyedError(method));
    const payload: JsonRpcPayload = { method, params, id: this.nextRequestId++, jsonrpc: '2.0' };
    return new Promise((resolve, reject) => {
      this.queued.push({ payload, json: JSON.stringify(payload), resolve, reject });
      this.scheduleDrain();
    });
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    return this.post(JSON.stringify(payload));
  }

  override destroy(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    for (const { payload, reject } of this.queued) reject(destroyedError(payload.method));
    this.queued = [];
    super.destroy();
  }

  private scheduleDrain(): void {
    if (this.drainTimer) return;
    // ethers always sets these options; without them, a request goes alone.
    const maxCount = this._getOption('batchMaxCount') ?? 1;
    this.drainTimer = setTimeout(
      () => {
        this.drainTimer = null;
        const queued = this.queued;
        this.queued = [];
        const maxSize = this._getOption('batchMaxSize') ?? 0;
        // Each batch takes at least one request, then more while the count and the body's size allow.
        for (let start = 0; start < queued.length;) {
          let end = start + 1;
          let size = queued[start].json.length + 2;
          while (end < queued.length && end - start < maxCount) {
            const next = size + queued[end].json.length + 1;
            if (next > maxSize) break;
            size = next;
            end++;
          }
          void this.dispatch(queued.slice(start, end));
          start = end;
        }
      },
      // As ethers: no stall when nothing is batched.
      maxCount === 1 ? 0 : this._getOption('batchStallTime'),
    );
  }

  /** Sends one batch (a lone request as itself, as ethers does) and settles each request with its own answer. */
  private async dispatch(batch: QueuedRequest[]): Promise<void> {
    let results: JsonRpcResult[];
    try {
      results = await this.post(
        batch.length === 1 ? batch[0].json : `[${batch.map((r) => r.json).join(',')}]`,
      );
    } catch (err) {
      for (const { reject } of batch) reject(err);
      return;
    }
    const byId = new Map(results.map((r) => [r.id, r as JsonRpcResult | JsonRpcError]));
    for (const { payload, resolve, reject } of batch) {
      const answer = byId.get(payload.id);
      if (this.destroyed) reject(destroyedError(payload.method));
      else if (!answer) reject(missingAnswerError(payload, results));
      else if ('error' in answer) reject(this.getRpcError(payload, answer));
      else resolve(answer.result);
    }
  }

  private async post(body: string): Promise<JsonRpcResult[]> {
    const request = this._getConnection();
    request.body = Buffer.from(body, 'utf8');
    request.setHeader('content-type', 'application/json');
    const response = await request.send();
    response.assertOk();
    const bytes = response.body;
    let parsed: JsonRpcResult | JsonRpcResult[];
    try {
      parsed = JSON.parse(
        bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : '',
      ) as JsonRpcResult | JsonRpcResult[];
    } catch {
      // Not JSON: ethers' own reading throws its usual error for it.
      parsed = response.bodyJson as JsonRpcResult | JsonRpcResult[];
    }
    return Array.isArray(parsed) ? parsed : [parsed];
  }
}
