import {
  Agent,
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A JSON-RPC proxy on loopback in front of `target` that misbehaves as a test asks, as ordinary RPC
 * providers do: it holds back the requests a test picks (an RPC that accepts a call and does not
 * answer, until the test lets it or for ever), it refuses eth_getLogs calls spanning more blocks
 * than a cap, with a provider's error, answering the other calls of a batch as usual, and it can
 * edit the blocks it answers (as another chain's node would write them).
 */
export interface JsonRpcProxy {
  url: string;
  /** Requests held now. */
  readonly stalled: number;
  /** From now on, holds every request (single or batch) one of whose calls `matches`. */
  stall(matches: (call: JsonRpcCall) => boolean): void;
  /** Stops holding, and forwards the requests held. */
  release(): void;
  /**
   * From now on, answers every eth_getLogs call spanning more than `maxBlocks` blocks (block tags
   * counted as the head is now) with `error` instead of forwarding it; undefined lifts the cap.
   */
  capLogSpan(maxBlocks: number | undefined, error?: JsonRpcError): void;
  /** Span in blocks of every eth_getLogs call seen (refused or not), in arrival order. */
  readonly logSpans: readonly bigint[];
  /** eth_getLogs calls refused for their span. */
  readonly refusedLogs: number;
  /**
   * From now on, passes each block an eth_getBlockBy* call answers through `edit` (an Arbitrum
   * node's `l1BlockNumber`, say); undefined stops.
   */
  editBlocks(edit: ((block: Record<string, unknown>) => void) | undefined): void;
  /**
   * From now on, answers 401 to every request without these credentials as HTTP Basic auth (as an
   * RPC reached through `https://user:password@host` does); undefined stops asking.
   */
  requireBasicAuth(credentials: { user: string; password: string } | undefined): void;
  /** Requests answered 401 for lack of the credentials. */
  readonly unauthorized: number;
  stop(): Promise<void>;
}

export interface JsonRpcCall {
  jsonrpc?: string;
  id?: unknown;
  method: string;
  params?: unknown[];
}

export interface JsonRpcError {
  code: number;
  message: string;
}

/** As geth-based providers (Infura, nitro's default limit) refuse a query whose answer is too large. */
export const TOO_MANY_RESULTS: JsonRpcError = {
  code: -32005,
  message: 'query returned more than 10000 results',
};

interface LogFilter {
  fromBlock?: string;
  toBlock?: string;
  blockHash?: string;
}

export async function startJsonRpcProxy(target: string): Promise<JsonRpcProxy> {
  const to = new URL(target);
  const agent = new Agent({ keepAlive: true });
  let matches: ((call: JsonRpcCall) => boolean) | undefined;
  let held: (() => void)[] = [];
  let cap: { maxBlocks: bigint; error: JsonRpcError } | undefined;
  const logSpans: bigint[] = [];
  let refusedLogs = 0;
  let editBlock: ((block: Record<string, unknown>) => void) | undefined;
  let basicAuth: string | undefined;
  let unauthorized = 0;

  const upstream = (req: IncomingMessage | undefined, body: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>(
      (resolve, reject) => {
        const r = request(
          {
            host: to.hostname,
            port: to.port,
            method: 'POST',
            path: req?.url ?? to.pathname,
            headers: {
              ...(req?.headers ?? { 'content-type': 'application/json' }),
              host: to.host,
              'content-length': String(body.length),
            },
            agent,
          },
          (up) => {
            const chunks: Buffer[] = [];
            up.on('data', (c: Buffer) => chunks.push(c));
            up.on('end', () =>
              resolve({ status: up.statusCode ?? 502, headers: up.headers, body: Buffer.concat(chunks) }),
            );
            up.on('error', reject);
          },
        );
        r.on('error', reject);
        r.end(body);
      },
    );

  const head = async (): Promise<bigint> => {
    const res = await upstream(
      undefined,
      Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'eth_blockNumber', params: [] })),
    );
    return BigInt((JSON.parse(res.body.toString('utf8')) as { result: string }).result);
  };

  /** Blocks the filter spans, tags read as a provider reads them (against the head now). */
  const spanOf = async (filter: LogFilter | undefined): Promise<bigint> => {
    if (filter?.blockHash) return 1n;
    let latest: bigint | undefined;
    const block = async (tag: string | undefined) => {
      if (tag === 'earliest') return 0n;
      if (tag === undefined || !tag.startsWith('0x')) return (latest ??= await head());
      return BigInt(tag);
    };
    const from = await block(filter?.fromBlock);
    const last = await block(filter?.toBlock);
    return last >= from ? last - from + 1n : 0n;
  };

  /** The refusal of `call`, when the cap refuses it. */
  const refusal = async (call: JsonRpcCall): Promise<object | undefined> => {
    if (call.method !== 'eth_getLogs') return undefined;
    const span = await spanOf(call.params?.[0] as LogFilter | undefined);
    logSpans.push(span);
    if (!cap || span <= cap.maxBlocks) return undefined;
    refusedLogs++;
    return { jsonrpc: '2.0', id: call.id, error: cap.error };
  };

  const pipeThrough = (req: IncomingMessage, body: Buffer, res: ServerResponse) => {
    upstream(req, body).then(
      (up) => {
        res.writeHead(up.status, up.headers);
        res.end(up.body);
      },
      () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      },
    );
  };

  /** Answers refused calls here and forwards the others (as one batch), keeping the batch's order. */
  const handle = async (req: IncomingMessage, body: Buffer, res: ServerResponse) => {
    const parsed = parse(body);
    if (!parsed) return pipeThrough(req, body, res);
    const calls = Array.isArray(parsed) ? parsed : [parsed];
    const refused = await Promise.all(calls.map(refusal));
    const edited = editBlock !== undefined && calls.some((c) => c.method.startsWith('eth_getBlockBy'));
    if (refused.every((r) => r === undefined) && !edited) return pipeThrough(req, body, res);
    const passed = calls.filter((_, i) => refused[i] === undefined);
    let answers: { id?: unknown }[] = [];
    if (passed.length > 0) {
      const up = await upstream(req, Buffer.from(JSON.stringify(passed)));
      answers = JSON.parse(up.body.toString('utf8')) as { id?: unknown }[];
    }
    const merged = calls.map((call, i) => refused[i] ?? answers.find((a) => a.id === call.id));
    for (const [i, a] of merged.entries()) {
      const block = (a as { result?: unknown } | undefined)?.result;
      if (calls[i].method.startsWith('eth_getBlockBy') && typeof block === 'object' && block !== null) {
        editBlock?.(block as Record<string, unknown>);
      }
    }
    const out = JSON.stringify(Array.isArray(parsed) ? merged : merged[0]);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(out);
  };

  const serve = (req: IncomingMessage, body: Buffer, res: ServerResponse) => {
    handle(req, body, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (basicAuth !== undefined && req.headers.authorization !== basicAuth) {
        unauthorized++;
        res.writeHead(401, 'Unauthorized', { 'www-authenticate': 'Basic' }).end();
        return;
      }
      const body = Buffer.concat(chunks);
      const calls = parse(body);
      const list = calls === undefined ? [] : Array.isArray(calls) ? calls : [calls];
      if (matches && list.some(matches)) held.push(() => serve(req, body, res));
      else serve(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get stalled() {
      return held.length;
    },
    stall(m) {
      matches = m;
    },
    release() {
      matches = undefined;
      const go = held;
      held = [];
      for (const f of go) f();
    },
    capLogSpan(maxBlocks, error = TOO_MANY_RESULTS) {
      cap = maxBlocks === undefined ? undefined : { maxBlocks: BigInt(maxBlocks), error };
    },
    get logSpans() {
      return logSpans;
    },
    get refusedLogs() {
      return refusedLogs;
    },
    editBlocks(edit) {
      editBlock = edit;
    },
    requireBasicAuth(credentials) {
      basicAuth =
        credentials &&
        `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
    },
    get unauthorized() {
      return unauthorized;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}

function parse(body: Buffer): JsonRpcCall | JsonRpcCall[] | undefined {
  try {
    return JSON.parse(body.toString('utf8')) as JsonRpcCall | JsonRpcCall[];
  } catch {
    return undefined;
  }
}
