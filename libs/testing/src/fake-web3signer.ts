import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getBytes, hashMessage, SigningKey, Wallet } from 'ethers';
import { SECP256K1_N } from '#app/ticket';

/**
 * How the fake misbehaves, for tests of a client's checks. `wrong-key` signs with another key,
 * `short` drops the last byte, `v01` answers v as 0/1 (a valid signature some signers send),
 * `high-s` answers the malleable twin, `garbage` answers a non-hex string, `rpc-error` a JSON-RPC
 * error, `http-500` an HTTP 500 without body, `not-json` a 200 with HTML, `hang` never answers.
 */
export type FakeWeb3SignerFault =
  | 'none'
  | 'wrong-key'
  | 'short'
  | 'v01'
  | 'high-s'
  | 'garbage'
  | 'rpc-error'
  | 'http-500'
  | 'not-json'
  | 'hang';

export interface FakeWeb3SignerOptions {
  /** Hex private keys of the accounts it holds. */
  keys: readonly string[];
  /** When set, requests without `authorization: Bearer <token>` get HTTP 401. */
  bearerToken?: string;
  port?: number;
  /** Serve HTTPS with this PEM certificate and key; with `clientCa`, require client certificates it signed. */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
}

/**
 * A small stand-in for Web3Signer's eth1 JSON-RPC API on 127.0.0.1, over real HTTP: `eth_accounts`
 * and `eth_sign` (params [address, 0x-data]; signs keccak256("\x19Ethereum Signed Message:\n" ‖
 * len ‖ data) as Web3Signer does, with its error for an account it does not hold). Anything
 * else is "Method not found".
 */
export class FakeWeb3Signer {
  fault: FakeWeb3SignerFault = 'none';
  /** eth_sign requests answered so far (any outcome). */
  signRequests = 0;
  /** The most requests it has had open at once. */
  maxConcurrent = 0;
  private open = 0;
  /** Accounts it acts as if it no longer held (a key removed after the client booted). */
  readonly hidden = new Set<string>();
  /** The authorization header of the last request, to check what the client sends. */
  lastAuthorization: string | undefined;
  private readonly wallets = new Map<string, SigningKey>();
  private readonly stranger = new SigningKey(Wallet.createRandom().privateKey);
  private readonly hanging = new Set<ServerResponse>();

  private readonly server: Server;
  private baseUrl = '';
  private readonly scheme: 'http' | 'https';

  private constructor(
    keys: readonly string[],
    private readonly bearerToken: string | undefined,
    tls: FakeWeb3SignerOptions['tls'],
  ) {
    for (const key of keys) this.wallets.set(new Wallet(key).address.toLowerCase(), new SigningKey(key));
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.server = tls
      ? createTlsServer(
          {
            cert: tls.cert,
            key: tls.key,
            ca: tls.clientCa,
            requestCert: !!tls.clientCa,
            rejectUnauthorized: !!tls.clientCa,
          },
          handler,
        )
      : createServer(handler);
    this.scheme = tls ? 'https' : 'http';
  }

  static async start(options: FakeWeb3SignerOptions): Promise<FakeWeb3Signer> {
    const fake = new FakeWeb3Signer(options.keys, options.bearerToken, options.tls);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    fake.baseUrl = `${fake.scheme}://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** Its JSON-RPC URL. */
  get url(): string {
    return this.baseUrl;
  }

  /** Lowercase addresses of the keys it holds. */
  get accounts(): string[] {
    return [...this.wallets.keys()].filter((a) => !this.hidden.has(a));
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.maxConcurrent = Math.max(this.maxConcurrent, ++this.open);
    res.once('close', () => this.open--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.lastAuthorization = req.headers.authorization;
      if (this.bearerToken !== undefined && req.headers.authorization !== `Bearer ${this.bearerToken}`) {
        res.writeHead(401).end();
        return;
      }
      let body: { id?: unknown; method?: unknown; params?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        this.reply(res, null, { error: { code: -32700, message: 'Parse error' } }, 400);
        return;
      }
      const id = body.id ?? null;
      if (body.method === 'eth_accounts') {
        this.reply(res, id, { result: this.accounts });
      } else if (body.method === 'eth_sign') {
        this.signRequests++;
        this.sign(res, id, body.params);
      } else {
        this.reply(res, id, { error: { code: -32601, message: 'Method not found' } }, 400);
      }
    });
  }

  private sign(res: ServerResponse, id: unknown, params: unknown): void {
    if (!Array.isArray(params) || params.length !== 2 || !params.every((p) => typeof p === 'string')) {
      this.reply(res, id, { error: { code: -32602, message: 'Invalid params' } }, 400);
      return;
    }
    const [address, data] = params as [string, string];
    const key = this.hidden.has(address.toLowerCase()) ? undefined : this.wallets.get(address.toLowerCase());
    if (!key) {
      this.reply(
        res,
        id,
        { error: { code: -32000, message: 'No unlocked account matches the Sender' } },
        400,
      );
      return;
    }
    const message = data.toLowerCase().startsWith('0x') ? getBytes(data) : new TextEncoder().encode(data);
    const digest = hashMessage(message);
    switch (this.fault) {
      case 'hang':
        this.hanging.add(res);
        return;
      case 'http-500':
        res.writeHead(500).end();
        return;
      case 'not-json':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy error</html>');
        return;
      case 'rpc-error':
        this.reply(res, id, { error: { code: -32603, message: 'Internal error' } }, 500);
        return;
      case 'garbage':
        this.reply(res, id, { result: 'not a signature' });
        return;
      default:
        break;
    }
    // Answered on a later turn, so concurrent requests really overlap.
    setImmediate(() => this.answerSigned(res, id, key, digest));
  }

  private answerSigned(res: ServerResponse, id: unknown, key: SigningKey, digest: string): void {
    const sig = (this.fault === 'wrong-key' ? this.stranger : key).sign(digest);
    let hex = sig.serialized;
    if (this.fault === 'short') hex = hex.slice(0, -2);
    if (this.fault === 'v01') hex = hex.slice(0, -2) + (sig.v - 27).toString(16).padStart(2, '0');
    if (this.fault === 'high-s') {
      const highS = SECP256K1_N - BigInt(sig.s);
      hex = sig.r + highS.toString(16).padStart(64, '0') + (sig.v === 27 ? '1c' : '1b');
    }
    this.reply(res, id, { result: hex });
  }

  private reply(res: ServerResponse, id: unknown, payload: object, status = 200): void {
    res
      .writeHead(status, { 'content-type': 'application/json' })
      .end(JSON.stringify({ jsonrpc: '2.0', id, ...payload }));
  }
}
