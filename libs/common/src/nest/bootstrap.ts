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
}

/**
 * Starts one service: an HTTP server for /health and /metrics, plus a gRPC server when the
 * service has one. Shutdown hooks close connections on SIGTERM/SIGINT.
 */
export async function bootstrapService(opts: ServiceBootstrap): Promise<INestApplication> {
  const app = await NestFactory.create(opts.module, { logger: opts.logger, bufferLogs: true });
  app.enableShutdownHooks();
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
  opts.logger.log({
    msg: 'service started',
    service: opts.name,
    http: await app.getUrl(),
    grpc: opts.grpc?.url,
  });
  return app;
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
