import { Controller, Get, Inject, Injectable, Module, type DynamicModule, type Type } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { safeErrorMessage, withTimeout } from '#app/core';
import { InjectRedis } from './redis.module.js';

/** A dependency a service needs to do its job; `check` resolves with details or throws when down. */
export abstract class HealthProbe {
  abstract readonly name: string;
  abstract check(): Promise<Record<string, unknown>>;
}

const HEALTH_PROBES = Symbol('HEALTH_PROBES');
const PROBE_TIMEOUT_MS = 3_000;

@Injectable()
export class RedisProbe extends HealthProbe {
  readonly name = 'redis';

  constructor(@InjectRedis() private readonly redis: Redis) {
    super();
  }

  async check(): Promise<Record<string, unknown>> {
    await this.redis.ping();
    return {};
  }
}

@Injectable()
export class HealthRunner {
  private readonly probes: HealthProbe[];

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(HEALTH_PROBES) probes: HealthProbe[],
  ) {
    this.probes = [...probes];
  }

  /** Adds a probe of a dependency known only once the service has booted (named by its settings). */
  add(probe: HealthProbe): void {
    this.probes.push(probe);
  }

  run() {
    return this.health.check(this.probes.map((probe) => () => this.runProbe(probe)));
  }

  private async runProbe(probe: HealthProbe) {
    const session = this.indicators.check(probe.name);
    try {
      const data = await withTimeout(
        probe.check(),
        PROBE_TIMEOUT_MS,
        `no answer within ${PROBE_TIMEOUT_MS} ms`,
      );
      return session.up(data);
    } catch (err) {
      return session.down({ message: safeErrorMessage(err) });
    }
  }

  async allUp(): Promise<boolean> {
    try {
      await this.run();
      return true;
    } catch {
      return false;
    }
  }
}

@Controller('health')
class HealthController {
  constructor(private readonly runner: HealthRunner) {}

  @Get()
  @HealthCheck()
  check() {
    return this.runner.run();
  }
}

/** `grpc.health.v1.Health/Check` for gRPC load balancers; served by apps that expose gRPC. */
@Controller()
class GrpcHealthController {
  constructor(private readonly runner: HealthRunner) {}

  @GrpcMethod('Health', 'Check')
  async check(): Promise<{ status: 'SERVING' | 'NOT_SERVING' }> {
    return { status: (await this.runner.allUp()) ? 'SERVING' : 'NOT_SERVING' };
  }
}

@Module({})
export class HealthModule {
  static forRoot(probes: Type<HealthProbe>[]): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController, GrpcHealthController],
      providers: [
        ...probes,
        { provide: HEALTH_PROBES, useFactory: (...all: HealthProbe[]) => all, inject: probes },
        HealthRunner,
      ],
      exports: [HealthRunner],
    };
  }
}
