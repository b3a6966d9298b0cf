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
  /**
   * Whether a command sent but not answered when the connection dropped is sent again once it is
   * back (ioredis's default). Off by default here: the services' writes are not idempotent (a
   * nonce script, a balance compare-and-set, a session's nonce allocation, a spend cap's charge, a
   * replay guard's SET NX), and one that ran but whose reply was lost would run twice. Off, such a
   * command fails instead (UNANSWERED_COMMAND), an outcome its caller must treat as unknown.
   */
  resendUnanswered?: boolean;
}

/** The message of a command failed because its connection closed before its reply came. */
export const UNANSWERED_COMMAND =
  'Redis connection lost before the reply: the command may or may not have run';

/**
 * A Redis connection of the deployment (its key prefix, bounded retries, nothing sent twice); the
 * caller closes it.
 */
export function createRedisConnection(options: RedisConnectionOptions): Redis {
  const resend = options.resendUnanswered ?? false;
  const redis = new Redis(options.url, {
    keyPrefix: options.prefix,
    enableAutoPipelining: options.autoPipelining ?? false,
    autoPipeliningIgnoredCommands: options.writtenAtOnce ?? [],
    maxRetriesPerRequest: 3,
    autoResendUnfulfilledCommands: resend,
    connectionName: options.connectionName,
  });
  if (!resend) failUnansweredOnClose(redis);
  return redis;
}

/** ioredis's queue of commands written to the socket and not answered yet (not in its typings). */
interface SentCommands {
  commandQueue?: { toArray(): { command: { reject(err: Error): void } }[] };
}

/**
 * Without the resend, ioredis drops the commands a closed connection left unanswered without
 * settling them: their callers would wait for ever. They are failed here, on the `close` event,
 * which ioredis emits before it sets them aside. Commands not yet written (its offline queue) are
 * left alone: they go out once the connection is back.
 */
function failUnansweredOnClose(redis: Redis): void {
  const sent = (redis as unknown as SentCommands).commandQueue;
  if (!sent || typeof sent.toArray !== 'function') {
    throw new Error('ioredis no longer exposes its sent-command queue: resendUnanswered: false is unsafe');
  }
  redis.on('close', () => {
    const unanswered = (redis as unknown as SentCommands).commandQueue!.toArray();
    for (const { command } of unanswered) command.reject(new Error(UNANSWERED_COMMAND));
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
