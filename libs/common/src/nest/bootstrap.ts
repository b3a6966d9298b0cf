import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerCredentials, status } from '@grpc/grpc-js';
import { Catch } from '@nestjs/common';
import type {
  ArgumentsHost,
  CallHandler,
  DynamicModule,
  ExecutionContext,
  INestApplication,
  LoggerService,
  NestInterceptor,
  RpcExceptionFilter,
  Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { GrpcOptions } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { GRPC_LOADER_OPTIONS, ProtoError, ProtoErrorCode } from '#app/proto';
import { ConfigError } from '../config/config-error.js';
import { DEFAULT_GRPC_DRAIN_MS } from '../config/infra-env.js';
import { setErrorTrailers } from './grpc-error-trailers.js';
import { DrainingGrpcServer, OpenStreams } from './grpc-drain.js';
import { pendingShutdownSteps, traceShutdown } from './shutdown-trace.js';
import { codeSizeRefusals } from './grpc-size-refusal.js';
import { readPemFile } from './grpc-tls.js';
import { HEALTH_PROTO_PATH } from './proto-paths.js';

export interface GrpcEndpoint {
  /** `host:port` to listen on. */
  url: string;
  /** Extra proto packages the app serves, beside `grpc.health.v1`. */
  packages?: string[];
  protoPaths?: string[];
  /** Include dirs for proto imports. */
  includeDirs?: string[];
  /** Serve over TLS (mTLS when `clientCa` is set); plaintext when absent. */
  tls?: GrpcServerTls;
  /** Largest request message accepted, bytes (default 4 MiB); grpc-js refuses a larger one unread. */
  maxRequestBytes?: number;
  /** How long closing lets calls in flight finish before cutting them (GRPC_DRAIN_MS). */
  drainMs?: number;
}

/** PEM material of a TLS gRPC server. */
export interface GrpcServerTls {
  cert: Buffer;
  key: Buffer;
  /** CA bundle that client certificates must chain to; makes a client certificate mandatory. */
  clientCa?: Buffer;
}

/** The GRPC_TLS_* settings of INFRA_ENV. */
export interface GrpcTlsFiles {
  GRPC_TLS_CERT_FILE?: string;
  GRPC_TLS_KEY_FILE?: string;
  GRPC_TLS_CLIENT_CA_FILE?: string;
}

/**
 * Reads the gRPC server's TLS files at boot, so a wrong path or a half configuration stops the
 * service with one ConfigError instead of silently serving plaintext. Messages name the setting,
 * never the file's content (the key is a secret).
 */
export function readGrpcServerTls(files: GrpcTlsFiles): GrpcServerTls | undefined {
  const { GRPC_TLS_CERT_FILE: certFile, GRPC_TLS_KEY_FILE: keyFile } = files;
  const caFile = files.GRPC_TLS_CLIENT_CA_FILE;
  const problems: string[] = [];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    problems.push('GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE must be set together');
  }
  if (certFile === undefined && caFile !== undefined) {
    problems.push('GRPC_TLS_CLIENT_CA_FILE needs GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (certFile === undefined || keyFile === undefined) return undefined;
  const tls: GrpcServerTls = {
    cert: readPemFile('GRPC_TLS_CERT_FILE', certFile, 'CERTIFICATE', problems),
    key: readPemFile('GRPC_TLS_KEY_FILE', keyFile, 'PRIVATE KEY', problems),
    clientCa:
      caFile === undefined
        ? undefined
        : readPemFile('GRPC_TLS_CLIENT_CA_FILE', caFile, 'CERTIFICATE', problems),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return tls;
}

function serverCredentials(tls: GrpcServerTls | undefined): ServerCredentials | undefined {
  if (!tls) return undefined;
  try {
    return ServerCredentials.createSsl(
      tls.clientCa ?? null,
      [{ cert_chain: tls.cert, private_key: tls.key }],
      tls.clientCa !== undefined,
    );
  } catch (err) {
    throw new ConfigError([
      `gRPC TLS material is unusable: ${err instanceof Error ? err.message : String(err)}`,
    ]);
  }
}

/** A Node request handler as Express mounts it. */
export type HttpPreHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

/**
 * A module definition some of whose HTTP routes must see the request before Nest's JSON and form
 * body parsers consume it (a route that reads its raw body). It travels with the module, so every
 * boot of the module mounts it; errors it passes to `next` reach the app's exception filters.
 */
export interface HttpModuleDefinition extends DynamicModule {
  beforeBodyParsers?: readonly HttpPreHandler[];
}

export interface ServiceBootstrap {
  name: string;
  module: Type<unknown> | HttpModuleDefinition;
  logger: LoggerService;
  http: { host: string; port: number };
  grpc?: GrpcEndpoint;
  /** Default true: SIGTERM/SIGINT close the app and exit the process. Off for in-process tests. */
  exitOnSignals?: boolean;
}

/**
 * Starts one service: an HTTP server for /health and /metrics, plus a gRPC server when the
 * service has one. Shutdown hooks close connections on SIGTERM/SIGINT.
 */
export async function bootstrapService(opts: ServiceBootstrap): Promise<INestApplication> {
  const app = await NestFactory.create(opts.module, { logger: opts.logger, bufferLogs: true });
  // Mounted now, ahead of the body parsers that app.init() adds.
  const early = 'beforeBodyParsers' in opts.module ? opts.module.beforeBodyParsers : undefined;
  for (const handler of early ?? []) app.use(handler);
  const drainMs = opts.grpc ? (opts.grpc.drainMs ?? DEFAULT_GRPC_DRAIN_MS) : 0;
  if (opts.grpc) {
    const streams = new OpenStreams();
    const options: GrpcOptions['options'] = {
      url: opts.grpc.url,
      credentials: serverCredentials(opts.grpc.tls),
      maxReceiveMessageLength: opts.grpc.maxRequestBytes,
      // channelz (grpc-js's call-tracing introspection) is unused here and costs every call.
      channelOptions: { interceptors: [codeSizeRefusals, streams.interceptor], 'grpc.enable_channelz': 0 },
      onLoadPackageDefinition: (pkg: Record<string, unknown>) => tolerateMalformedRequests(pkg),
      package: ['grpc.health.v1', ...(opts.grpc.packages ?? [])],
      protoPath: [HEALTH_PROTO_PATH, ...(opts.grpc.protoPaths ?? [])],
      loader: { ...GRPC_LOADER_OPTIONS, includeDirs: opts.grpc.includeDirs },
    };
    app.useGlobalInterceptors(new RejectMalformedRequests());
    app.useGlobalFilters(new MalformedRequestFilter());
    const drain = { boundMs: drainMs, streams, logger: opts.logger, service: opts.name };
    app.connectMicroservice({ strategy: new DrainingGrpcServer(options, drain) }, { inheritAppConfig: true });
    // Boot hooks (keystores, API tokens, config checks) run before gRPC listens: started first,
    // it would answer SERVING and take calls it can only refuse until they finish.
    await app.init();
    await app.startAllMicroservices();
  }
  await app.listen(opts.http.port, opts.http.host);
  traceShutdown(app, opts.name);
  if (opts.exitOnSignals !== false) exitOnSignals(app, opts, SHUTDOWN_GRACE_MS + drainMs);
  opts.logger.log({
    msg: 'service started',
    service: opts.name,
    http: await app.getUrl(),
    grpc: opts.grpc?.url,
    grpcTls: opts.grpc ? (opts.grpc.tls ? (opts.grpc.tls.clientCa ? 'mtls' : 'tls') : 'off') : undefined,
  });
  return app;
}

/** What a request that is not its method's protobuf message decodes to (see below). */
class MalformedRequest {}

/**
 * grpc-js answers a request it cannot deserialize itself, with INTERNAL and no error code, before
 * any of our code runs. Every method's deserializer is wrapped so such bytes reach the handler
 * pipeline as a MalformedRequest instead, where RejectMalformedRequests turns them into the coded
 * MALFORMED_MESSAGE error (INVALID_ARGUMENT) that every app's exception filter maps.
 */
function tolerateMalformedRequests(pkg: Record<string, unknown>): void {
  for (const definition of Object.values(pkg)) {
    // Message and enum definitions carry `format`; services are maps of method definitions.
    if (!definition || typeof definition !== 'object' || 'format' in definition) continue;
    for (const method of Object.values(definition as Record<string, unknown>)) {
      const m = method as { requestDeserialize?: (bytes: Buffer) => unknown } | undefined;
      const original = m?.requestDeserialize;
      if (typeof original !== 'function') continue;
      m!.requestDeserialize = (bytes: Buffer) => {
        try {
          return original(bytes);
        } catch {
          return new MalformedRequest();
        }
      };
    }
  }
}

class RejectMalformedRequests implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'rpc' && context.switchToRpc().getData() instanceof MalformedRequest) {
      throw new ProtoError(
        ProtoErrorCode.MALFORMED_MESSAGE,
        'the request is not a valid message for this method',
      );
    }
    return next.handle();
  }
}

/**
 * The coded answer for a ProtoError no controller filter handled (grpc.health.v1 has none): the
 * apps' own filters take precedence, so this only backs them up. HTTP gets a 400 of the same shape.
 */
@Catch(ProtoError)
class MalformedRequestFilter implements RpcExceptionFilter<ProtoError> {
  catch(err: ProtoError, host: ArgumentsHost): Observable<never> {
    if (host.getType() === 'http') {
      const res = host.switchToHttp().getResponse<{ status(code: number): { json(body: unknown): void } }>();
      res.status(400).json({ domain: err.domain, code: err.code, message: err.message });
      return throwError(() => err);
    }
    return throwError(() => ({
      code: status.INVALID_ARGUMENT,
      message: err.message,
      details: err.message,
      metadata: setErrorTrailers(err.code, err.domain),
    }));
  }
}

/** What a shutdown may take beside the gRPC drain (hooks, stores closing). */
const SHUTDOWN_GRACE_MS = 15_000;

/**
 * SIGTERM/SIGINT close the app (servers stop accepting, gRPC calls in flight drain, lifecycle
 * hooks close connections) and exit 0, so supervisors see a clean stop; a shutdown stuck past the
 * grace period (plus the drain bound) exits 1.
 */
function exitOnSignals(app: INestApplication, opts: ServiceBootstrap, graceMs: number): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    opts.logger.log({ msg: 'shutting down', service: opts.name, signal });
    setTimeout(() => {
      opts.logger.error({
        msg: 'shutdown did not finish in time',
        service: opts.name,
        graceMs,
        waitingOn: pendingShutdownSteps() || 'no lifecycle hook (open handles)',
      });
      process.exit(1);
    }, graceMs).unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        opts.logger.error({
          msg: 'shutdown failed',
          error: err instanceof Error ? err.message : String(err),
        });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

/** Runs a service's main, turning a configuration error into one readable message and exit code 78. */
export function runMain(main: () => Promise<unknown>): void {
  main().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
