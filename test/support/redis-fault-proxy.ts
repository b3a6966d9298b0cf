import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a Redis server that can fail the way a network does at the worst
 * moment: lose a connection after the server received a request, before its reply reaches the
 * client (the server has acted on it; the client only sees its connection close), or hold every
 * reply back (a stalled server or link: connections stay open, nothing comes back).
 */
export interface RedisFaultProxy {
  /** `redis://` URL of the proxy. */
  url: string;
  /**
   * Instead of relaying the reply to the next request whose bytes contain `marker`, closes both
   * sides of that connection. Resolves once it has.
   */
  cutReplyTo(marker: string): Promise<void>;
  /** Holds every reply back from now on, on every connection; the returned function lets them go. */
  holdReplies(): () => void;
  stop(): Promise<void>;
}

export async function startRedisFaultProxy(targetUrl: string): Promise<RedisFaultProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let armed: { marker: string; done: () => void } | undefined;
  /** Replies held back, per client socket, while holding. */
  let held: Map<Socket, Buffer[]> | undefined;

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
      if (held) {
        held.set(client, [...(held.get(client) ?? []), chunk]);
        return;
      }
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
    holdReplies() {
      held ??= new Map();
      return () => {
        const replies = held;
        held = undefined;
        for (const [client, chunks] of replies ?? []) for (const chunk of chunks) client.write(chunk);
      };
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
