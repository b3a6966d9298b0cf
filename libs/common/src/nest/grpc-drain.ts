import {
  Metadata,
  status,
  type Server,
  type ServerInterceptingCall,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import type { LoggerService } from '@nestjs/common';
import { ServerGrpc, type GrpcOptions } from '@nestjs/microservices';

type Call = Parameters<ServerInterceptor>[1];

/**
 * The streaming calls a gRPC server has open. A stream (the SenderMonitor's WatchMaxFloat) never
 * ends by itself, so closing ends them at once rather than waiting for them up to the drain bound;
 * their clients reconnect elsewhere.
 */
export class OpenStreams {
  private readonly calls = new Set<Call>();

  /** Tracks streaming calls; a unary call passes untouched (the hot path). */
  readonly interceptor: ServerInterceptor = (method, call) => {
    if (method.requestStream || method.responseStream) this.track(call);
    // The call object itself goes on, as in codeSizeRefusals: grpc-js only uses its interface.
    return call as ServerInterceptingCall;
  };

  /** Ends every open stream with UNAVAILABLE; the handler sees it cancelled and unsubscribes. */
  endAll(): number {
    const open = [...this.calls];
    for (const call of open) {
      call.sendStatus({
        code: status.UNAVAILABLE,
        details: 'the server is shutting down',
        metadata: new Metadata(),
      });
    }
    return open.length;
  }

  private track(call: Call): void {
    this.calls.add(call);
    const forget = () => this.calls.delete(call);
    // Gone once its status is sent, or once its HTTP/2 stream closes for any reason (a client's
    // cancel, a refusal grpc-js sends itself): grpc-js reports every stream close as onCancel.
    const send = call.sendStatus.bind(call);
    call.sendStatus = (s) => {
      forget();
      send(s);
    };
    const start = call.start.bind(call);
    call.start = (listener) =>
      start({
        onReceiveMetadata: (m) => listener.onReceiveMetadata(m),
        onReceiveMessage: (m) => listener.onReceiveMessage(m),
        onReceiveHalfClose: () => listener.onReceiveHalfClose(),
        onCancel: () => {
          forget();
          listener.onCancel();
        },
      });
  }
}

export interface GrpcDrain {
  /** How long calls in flight may take to finish once closing starts, before they are cut. */
  boundMs: number;
  streams: OpenStreams;
  logger: LoggerService;
  service: string;
}

/**
 * Nest's gRPC server, closed with a bounded drain. Nest closes its servers after the
 * onModuleDestroy / beforeApplicationShutdown hooks and before onApplicationShutdown, where the
 * Redis and Postgres clients close: cut midway there, a payment could keep its recorded nonces
 * without its credit, and its retry would be refused as a replay. So closing stops taking calls,
 * ends streams at once, lets unary calls in flight finish, and cuts what is left at the bound.
 * (Nest's own `gracefulShutdown` waits without a bound: one connection whose peer never closes
 * holds the whole shutdown.)
 */
export class DrainingGrpcServer extends ServerGrpc {
  constructor(
    options: GrpcOptions['options'],
    private readonly drain: GrpcDrain,
  ) {
    super(options);
  }

  override async close(): Promise<void> {
    const server = this.grpcClient as Server | null;
    if (server) await drainServer(server, this.url, this.drain);
    // forceShutdown: after the drain nothing is left for it to cut.
    await super.close();
  }
}

async function drainServer(server: Server, url: string, drain: GrpcDrain): Promise<void> {
  // grpc-js's forceShutdown destroys only the sessions channelz tracks, and channelz is off
  // (bootstrapService): at the bound, Server.drain destroys the connections still open, which
  // cancels their calls; its timer, set first, fires before ours. It needs the bound port: a
  // server asked for port 0 is left to the bound alone (tests only).
  try {
    server.drain(url, drain.boundMs);
  } catch {
    // port 0: nothing to name the connections by
  }
  const finished = new Promise<boolean>((resolve) => server.tryShutdown(() => resolve(true)));
  const streams = drain.streams.endAll();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), drain.boundMs);
  });
  const drained = await Promise.race([finished, bound]);
  clearTimeout(timer);
  if (!drained) {
    drain.logger.warn({
      msg: 'gRPC calls still in flight at the drain bound were cut',
      service: drain.service,
      drainMs: drain.boundMs,
      streamsEnded: streams,
    });
  }
}
