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
 * A JSON-RPC proxy on loopback in front of `target` that holds back the requests a test picks: an
 * RPC that accepts a call and does not answer (until the test lets it, or for ever).
 */
export interface StallingRpcProxy {
  url: string;
  /** Requests held now. */
  readonly stalled: number;
  /** From now on, holds every request (single or batch) one of whose calls `matches`. */
  stall(matches: (call: JsonRpcCall) => boolean): void;
  /** Stops holding, and forwards the requests held. */
  release(): void;
  stop(): Promise<void>;
}

export interface JsonRpcCall {
  method: string;
  params?: unknown[];
}

export async function startStallingRpcProxy(target: string): Promise<StallingRpcProxy> {
  const to = new URL(target);
  const agent = new Agent({ keepAlive: true });
  let matches: ((call: JsonRpcCall) => boolean) | undefined;
  let held: (() => void)[] = [];

  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse) => {
    const upstream = request(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: to.host, 'content-length': String(body.length) },
        agent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    upstream.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (matches && callsOf(body).some(matches)) held.push(() => forward(req, body, res));
      else forward(req, body, res);
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
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}

function callsOf(body: Buffer): JsonRpcCall[] {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as JsonRpcCall | JsonRpcCall[];
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return [];
  }
}
