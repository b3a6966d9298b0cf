import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: what a service is given instead of the upstream URL. */
  url: string;
  port: number;
  /** Stops listening and cuts every open connection, as an RPC outage would. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  readonly running: boolean;
}

/**
 * A TCP proxy to `127.0.0.1:<targetPort>` (an anvil), for tests that take the RPC endpoint away
 * and bring it back while a service keeps its URL. `port` 0 picks a free one, kept on restart.
 */
export async function startTcpProxy(targetPort: number, port = 0): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let boundPort = port;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const srv = createServer((client) => {
        const upstream = connect(targetPort, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      srv.once('error', reject);
      srv.listen(boundPort, '127.0.0.1', () => {
        const address = srv.address();
        if (address && typeof address === 'object') boundPort = address.port;
        server = srv;
        resolve();
      });
    });

  await listen();
  return {
    get url() {
      return `http://127.0.0.1:${boundPort}`;
    },
    get port() {
      return boundPort;
    },
    get running() {
      return server !== undefined;
    },
    stop: async () => {
      const srv = server;
      server = undefined;
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
    start: async () => {
      if (!server) await listen();
    },
  };
}
