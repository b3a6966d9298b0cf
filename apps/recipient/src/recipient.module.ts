import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { RemoteSenderMonitor } from '#app/clients';
import { grpcClientCredentials } from '#app/common';
import { QueueModule } from '#app/queue';
import { infrastructure } from '#app/runtime';
import { SenderMonitor } from '#app/ticket';
import { Balances } from './balance/balances.service.js';
import { RecipientController } from './grpc/recipient.controller.js';
import { RecipientMetrics } from './metrics/recipient.metrics.js';
import { RedisNonceLedger } from './nonce/redis-nonce-ledger.js';
import { ExpirationParamsSource } from './params/expiration-params.source.js';
import { TicketParamsService } from './params/ticket-params.service.js';
import { SenderRateLimiter } from './payment/sender-rate-limiter.js';
import { PaymentService } from './payment/payment.service.js';
import { RecipientRedisCloser, recipientRedisProvider } from './recipient-redis.js';
import { RecipientConfig } from './recipient.config.js';
import { RecipientSecrets } from './secret/recipient-secrets.service.js';
import { ChainSenderMonitor } from './sender-monitor/chain-sender-monitor.js';
import { RedeemerPresence } from './redeemer-presence.js';
import { ChainHeadHealth } from './chain-head-health.js';

/** Recipient: issues ticket params and validates payments for orchestrators; stores winners in Postgres. */
@Module({})
export class RecipientModule {
  static forRoot(config: RecipientConfig): DynamicModule {
    const env = config.values;
    return {
      module: RecipientModule,
      imports: [
        ...infrastructure('recipient', env, { database: true, chainFacts: true }),
        QueueModule.forRoot({
          redisUrl: env.REDIS_URL,
          redisPrefix: env.REDIS_PREFIX,
          intake: {
            recipients: [env.RECIPIENT_ADDRESS],
            reconcileIntervalMs: env.RECIPIENT_RECONCILE_INTERVAL_SECONDS * 1000,
            revealMarginBlocks: config.revealMarginBlocks(),
          },
        }),
      ],
      controllers: [RecipientController],
      providers: [
        { provide: RecipientConfig, useValue: config },
        recipientRedisProvider,
        RecipientRedisCloser,
        senderMonitorProvider(config),
        RecipientMetrics,
        RecipientSecrets,
        RedisNonceLedger,
        Balances,
        ExpirationParamsSource,
        TicketParamsService,
        PaymentService,
        SenderRateLimiter,
        ChainHeadHealth,
        RedeemerPresence,
      ],
    };
  }
}

/** The SenderMonitor service when one is configured, else a reading of the chain views in-process. */
function senderMonitorProvider(config: RecipientConfig): Provider {
  // Read here, at boot, not in the factory: a bad GRPC_TLS_* setting is a ConfigError (exit 78).
  const credentials = grpcClientCredentials(config.values);
  const target = config.values.RECIPIENT_SENDER_MONITOR_URL;
  if (target) {
    return { provide: SenderMonitor, useFactory: () => new RemoteSenderMonitor({ target, credentials }) };
  }
  return { provide: SenderMonitor, useClass: ChainSenderMonitor };
}
