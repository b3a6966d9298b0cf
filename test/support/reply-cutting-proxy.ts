import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server (Redis here) that can lose a connection at the worst moment:
 * after the server received a request, before its reply reaches the client. The server has acted
 * on the request; the client only sees its connection close.
 */
export interface ReplyCuttingProxy {
  /** `redis://` URL of the proxy. */
  url: string;
  /**
   * Instead of relaying the reply to the next request whose bytes contain `marker`, closes both
   * sides of that connection. Resolves once it has.
   */
  cutReplyTo(marker: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startReplyCuttingProxy(targetUrl: string): Promise<ReplyCuttingProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let armed: { marker: string; done: () => void } | undefined;

  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 6379) });
    sockets.add(client).add(upstream);
    let cutNext: (() => void) | undefined;
    client.on('data', (chunk: Buffer) => {
      if (armed && chunk.toString('latin1').includes(armed.marker)) {
        cutNext = armed.done;
        armed = undefined;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cutNext) {
        client.write(chunk);
        return;
      }
      client.destroy();
      upstream.destroy();
      cutNext();
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    cutReplyTo: (marker) => new Promise<void>((done) => (armed = { marker, done })),
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
