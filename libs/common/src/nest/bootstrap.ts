import type { DynamicModule, INestApplication, LoggerService, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type GrpcOptions } from '@nestjs/microservices';
import { ConfigError } from '../config/config-error.js';
import { HEALTH_PROTO_PATH } from './proto-paths.js';

export interface GrpcEndpoint {
  /** `host:port` to listen on. */
  url: string;
  /** Extra proto packages the app serves, beside `grpc.health.v1`. */
  packages?: string[];
  protoPaths?: string[];
  /** Include dirs for proto imports. */
  includeDirs?: string[];
}

export interface ServiceBootstrap {
  name: string;
  module: Type<unknown> | DynamicModule;
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
  if (opts.grpc) {
    const options: GrpcOptions['options'] = {
      url: opts.grpc.url,
      package: ['grpc.health.v1', ...(opts.grpc.packages ?? [])],
      protoPath: [HEALTH_PROTO_PATH, ...(opts.grpc.protoPaths ?? [])],
      loader: {
        keepCase: false,
        longs: String,
        enums: String,
        defaults: true,
        oneofs: true,
        includeDirs: opts.grpc.includeDirs,
      },
    };
    app.connectMicroservice({ transport: Transport.GRPC, options }, { inheritAppConfig: true });
    await app.startAllMicroservices();
  }
  await app.listen(opts.http.port, opts.http.host);
  if (opts.exitOnSignals !== false) exitOnSignals(app, opts);
  opts.logger.log({
    msg: 'service started',
    service: opts.name,
    http: await app.getUrl(),
    grpc: opts.grpc?.url,
  });
  return app;
}

const SHUTDOWN_GRACE_MS = 15_000;

/**
 * SIGTERM/SIGINT close the app (servers stop accepting, lifecycle hooks close connections) and
 * exit 0, so supervisors see a clean stop; a shutdown stuck past the grace period exits 1.
 */
function exitOnSignals(app: INestApplication, opts: ServiceBootstrap): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    opts.logger.log({ msg: 'shutting down', service: opts.name, signal });
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
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
