import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { createRedisConnection } from '#app/common';
import { RecipientConfig } from './recipient.config.js';

/** The Recipient's own Redis connection for the payment path (params, nonces, balances). */
export const RECIPIENT_REDIS = Symbol('RECIPIENT_REDIS');
export const InjectRecipientRedis = (): ParameterDecorator => Inject(RECIPIENT_REDIS);

/** The nonce script's command (RedisNonceLedger), which gathers each turn's payments into one call. */
export const RECORD_PAYMENTS_COMMAND = 'recipientRecordPayments';

/**
 * A second connection beside the shared one, with auto-pipelining: the few commands each
 * concurrent payment sends in the same tick leave in one write instead of one write each, which
 * is most of the Redis cost under load. Same key prefix as every other key of the deployment.
 * The nonce script is the exception: the ledger gathers a turn's payments into one call itself.
 */
export const recipientRedisProvider: Provider = {
  provide: RECIPIENT_REDIS,
  inject: [RecipientConfig],
  useFactory: (config: RecipientConfig) =>
    createRedisConnection({
      url: config.values.REDIS_URL,
      prefix: config.values.REDIS_PREFIX,
      autoPipelining: true,
      writtenAtOnce: [RECORD_PAYMENTS_COMMAND],
      connectionName: 'ticketpay-recipient',
    }),
};

@Injectable()
export class RecipientRedisCloser implements OnApplicationShutdown {
  constructor(@InjectRecipientRedis() private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
