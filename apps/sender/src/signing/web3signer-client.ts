import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { bytesToHex } from '#app/ticket';
import { SenderError, SenderErrorCode } from '../sender.error.js';
import { splitUrlCredentials } from '../url-credentials.js';

export interface Web3SignerOptions {
  /** Web3Signer's eth1 JSON-RPC endpoint, e.g. `https://signer.internal:9000`. */
  url: string;
  /** Deadline of one JSON-RPC call, connection to last response byte. */
  timeoutMs: number;
  /** JSON-RPC calls in flight at once over all accounts; the rest wait their turn. */
  maxInFlight: number;
  /** PEM CA bundle to trust for an `https` URL (Web3Signer's --tls-keystore certificate chain). */
  ca?: Buffer;
  /** PEM client certificate and key, for a Web3Signer started with --tls-known-clients-file / --tls-allow-ca-clients. */
  cert?: Buffer;
  key?: Buffer;
  /** Bearer token for an authenticating proxy in front of Web3Signer (Web3Signer itself has none). */
  bearerToken?: string;
}

/** Web3Signer answers a few hundred bytes; anything far larger is not it. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** How much of a remote error message is repeated in ours. */
const MAX_REMOTE_MESSAGE = 200;

interface JsonRpcReply {
  id?: unknown;
  result?: unknown;
  error?: { code?: unknown; message?: unknown };
}

/**
 * A client of Web3Signer's eth1 JSON-RPC API: `eth_accounts` (which keys it holds) and `eth_sign`
 * (params [address, 0x-data]; Web3Signer hashes "\x19Ethereum Signed Message:\n" ‖ len ‖ data, so
 * 32 bytes of data give exactly go-livepeer's ticket digest). Every failure is a coded
 * SenderError; no message carries the bearer token or URL credentials.
 */
export class Web3SignerClient {
  /** The URL without credentials, for logs and messages. */
  readonly endpoint: string;
  // ECMAScript-private: neither util.inspect nor JSON shows the credentials these carry.
  readonly #target: URL;
  readonly #agent: HttpAgent;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  private nextId = 1;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(options: Web3SignerOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#maxInFlight = options.maxInFlight;
    const { target, basicAuth } = splitUrlCredentials(options.url);
    this.#target = target;
    this.endpoint = target.origin + target.pathname.replace(/\/$/, '');
    const https = this.#target.protocol === 'https:';
    this.#agent = https
      ? new HttpsAgent({ keepAlive: true, ca: options.ca, cert: options.cert, key: options.key })
      : new HttpAgent({ keepAlive: true });
    this.#headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (options.bearerToken !== undefined) this.#headers.authorization = `Bearer ${options.bearerToken}`;
    else if (basicAuth !== undefined) this.#headers.authorization = basicAuth;
  }

  /**
   * The lowercase addresses of the keys the signer holds. `queued: false` skips the wait for an
   * in-flight slot (the health probe: a signer busy with tickets is not down).
   */
  async accounts({ queued = true }: { queued?: boolean } = {}): Promise<string[]> {
    const result = await this.call('eth_accounts', [], queued);
    if (
      !Array.isArray(result) ||
      !result.every((a) => typeof a === 'string' && /^0x[0-9a-fA-F]{40}$/.test(a))
    ) {
      throw this.badResponse('eth_accounts did not return a list of addresses');
    }
    return (result as string[]).map((a) => a.toLowerCase());
  }

  /**
   * `eth_sign` of 32 bytes by `addressHex`: 65 bytes r‖s‖v with v normalised to 27/28 (some
   * signers answer 0/1). Whether the signature is by that account is the caller's check.
   */
  async ethSign(addressHex: string, data: Uint8Array): Promise<Uint8Array> {
    const result = await this.call('eth_sign', [addressHex, bytesToHex(data)]);
    if (typeof result !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(result)) {
      throw this.badResponse('eth_sign did not return a 65-byte hex signature');
    }
    const sig = Buffer.from(result.slice(2), 'hex');
    const v = sig[64];
    if (v === 0 || v === 1) sig[64] = v + 27;
    else if (v !== 27 && v !== 28) throw this.badResponse(`eth_sign returned recovery id v=${v}`);
    return new Uint8Array(sig);
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  private async call(method: string, params: unknown[], queued = true): Promise<unknown> {
    if (queued) await this.acquire();
    try {
      const id = this.nextId++;
      const reply = await this.post(JSON.stringify({ jsonrpc: '2.0', method, params, id }));
      if (reply.error !== undefined && reply.error !== null) {
        const code = typeof reply.error.code === 'number' ? reply.error.code : 'no code';
        const message =
          typeof reply.error.message === 'string' ? reply.error.message.slice(0, MAX_REMOTE_MESSAGE) : '';
        throw new SenderError(
          SenderErrorCode.SIGNER_REFUSED,
          `${this.endpoint} refused ${method}: ${message} (${code})`,
        );
      }
      if (reply.id !== id) throw this.badResponse(`${method} answered with another request id`);
      if (!('result' in reply)) throw this.badResponse(`${method} answered without a result`);
      return reply.result;
    } finally {
      if (queued) this.release();
    }
  }

  private post(body: string): Promise<JsonRpcReply> {
    const request = this.#target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: SenderError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const req = request(
        this.#target,
        {
          method: 'POST',
          agent: this.#agent,
          headers: { ...this.#headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) =>
          this.readReply(res, fail, (reply) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve(reply);
          }),
      );
      const timer = setTimeout(
        () =>
          fail(
            new SenderError(
              SenderErrorCode.SIGNER_UNAVAILABLE,
              `${this.endpoint} did not answer within ${this.#timeoutMs} ms`,
            ),
          ),
        this.#timeoutMs,
      );
      req.on('error', (cause: NodeJS.ErrnoException) =>
        fail(
          new SenderError(
            SenderErrorCode.SIGNER_UNAVAILABLE,
            `cannot reach ${this.endpoint} (${cause.code ?? 'connection error'})`,
            { cause },
          ),
        ),
      );
      req.end(body);
    });
  }

  private readReply(
    res: IncomingMessage,
    fail: (err: SenderError) => void,
    done: (reply: JsonRpcReply) => void,
  ): void {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) fail(this.badResponse(`answer larger than ${MAX_RESPONSE_BYTES} bytes`));
      else chunks.push(chunk);
    });
    res.on('error', () =>
      fail(new SenderError(SenderErrorCode.SIGNER_UNAVAILABLE, `${this.endpoint} broke the answer off`)),
    );
    res.on('end', () => {
      const status = res.statusCode ?? 0;
      let reply: unknown;
      try {
        reply = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        reply = undefined;
      }
      const isReply = typeof reply === 'object' && reply !== null && !Array.isArray(reply);
      // A JSON-RPC error says more than the status it came with (Web3Signer sends 400s with one).
      if (isReply && (reply as JsonRpcReply).error) return done(reply as JsonRpcReply);
      if (status === 401 || status === 403) {
        return fail(
          new SenderError(
            SenderErrorCode.SIGNER_REFUSED,
            `${this.endpoint} answered HTTP ${status}: not authorized`,
          ),
        );
      }
      if (status < 200 || status >= 300) {
        return fail(
          new SenderError(SenderErrorCode.SIGNER_UNAVAILABLE, `${this.endpoint} answered HTTP ${status}`),
        );
      }
      if (!isReply) return fail(this.badResponse('answer is not a JSON-RPC object'));
      done(reply as JsonRpcReply);
    });
  }

  private badResponse(why: string): SenderError {
    return new SenderError(SenderErrorCode.SIGNER_BAD_RESPONSE, `${this.endpoint}: ${why}`);
  }

  private acquire(): Promise<void> {
    if (this.inFlight < this.#maxInFlight) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hands the slot straight to the next waiter, if any. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }
}
