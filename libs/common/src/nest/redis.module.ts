import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';

export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
export const InjectRedis = (): PropertyDecorator & ParameterDecorator => Inject(REDIS_CLIENT);

export interface RedisOptions {
  url: string;
  /** Every key this client writes starts with it, so several deployments or test runs can share a server. */
  prefix: string;
  /** Commands sent in the same tick leave in one write (for a service whose hot path is Redis). */
  autoPipelining?: boolean;
}

/** Options of a connection beside the shared one (e.g. auto-pipelined for a hot path). */
export interface RedisConnectionOptions extends RedisOptions {
  connectionName: string;
  /**
   * Commands (custom ones by their defined name) written at once even with auto-pipelining, which
   * defers each write to a setImmediate: for callers that already gather their calls themselves.
   */
  writtenAtOnce?: string[];
}

/** A Redis connection of the deployment (its key prefix, bounded retries); the caller closes it. */
export function createRedisConnection(options: RedisConnectionOptions): Redis {
  return new Redis(options.url, {
    keyPrefix: options.prefix,
    enableAutoPipelining: options.autoPipelining ?? false,
    autoPipeliningIgnoredCommands: options.writtenAtOnce ?? [],
    maxRetriesPerRequest: 3,
    connectionName: options.connectionName,
  });
}

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Module({})
export class RedisModule {
  static forRoot(options: RedisOptions): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      providers: [
        {
          provide: REDIS_CLIENT,
          useFactory: () => createRedisConnection({ ...options, connectionName: 'ticketpay' }),
        },
        RedisCloser,
      ],
      exports: [REDIS_CLIENT],
    };
  }
}
