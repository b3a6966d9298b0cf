import 'reflect-metadata';
import type { DynamicModule } from '@nestjs/common';
import {
  bootstrapService,
  ConfigError,
  createLogger,
  readGrpcServerTls,
  runMain,
  type ConfigInstance,
  type EnvValues,
  type INFRA_ENV,
} from '#app/common';

export interface ServiceSpec<C extends ConfigInstance<typeof INFRA_ENV>> {
  name: string;
  /** Parses and validates the environment; fails the boot listing every problem. */
  loadConfig: () => C;
  module: (config: C) => DynamicModule;
  httpPort: (env: C['values']) => number;
  grpcUrl?: (env: C['values']) => string;
  /** Proto packages the gRPC server serves beside `grpc.health.v1`, e.g. `ticketpay.recipient.v1`. */
  grpcPackages?: string[];
  /** The .proto files defining those packages. */
  grpcProtoPaths?: string[];
  /** Roots their imports resolve against (e.g. PROTO_DIR for `net/lp_rpc.proto`). */
  grpcIncludeDirs?: string[];
  /** Largest gRPC request message the server accepts, bytes (grpc-js default 4 MiB when absent). */
  grpcMaxRequestBytes?: (env: C['values']) => number;
}

/** A service's whole `main`: validated config, structured logger, HTTP (+ gRPC) servers. */
export function runService<C extends ConfigInstance<typeof INFRA_ENV>>(spec: ServiceSpec<C>): void {
  runMain(async () => {
    const config = spec.loadConfig();
    const env: EnvValues<typeof INFRA_ENV> = config.values;
    const logger = createLogger(spec.name, env.LOG_FORMAT, env.LOG_LEVEL);
    logger.log({ msg: 'configuration', config: config.redacted() });
    // Both read files named by settings (client and server TLS): one boot reports every problem.
    const [module, tls] = collectConfigProblems(
      () => spec.module(config),
      () => (spec.grpcUrl ? readGrpcServerTls(env) : undefined),
    );
    await bootstrapService({
      name: spec.name,
      module,
      logger,
      http: { host: env.HTTP_HOST, port: spec.httpPort(config.values) },
      grpc: spec.grpcUrl
        ? {
            url: spec.grpcUrl(config.values),
            packages: spec.grpcPackages,
            protoPaths: spec.grpcProtoPaths,
            includeDirs: spec.grpcIncludeDirs,
            maxRequestBytes: spec.grpcMaxRequestBytes?.(config.values),
            drainMs: env.GRPC_DRAIN_MS,
            tls,
          }
        : undefined,
    });
  });
}

/** Runs both steps; when either fails on configuration, throws one ConfigError listing all. */
function collectConfigProblems<A, B>(a: () => A, b: () => B): [A, B] {
  const problems: string[] = [];
  const attempt = <T>(step: () => T): T | undefined => {
    try {
      return step();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  };
  const first = attempt(a);
  const second = attempt(b);
  if (problems.length > 0) throw new ConfigError(problems);
  return [first as A, second as B];
}
