import { Module, type DynamicModule } from '@nestjs/common';
import { infrastructure } from '#app/runtime';
import { SenderAccounts } from './accounts/sender-accounts.js';
import { SenderChainView } from './accounts/sender-chain-view.js';
import { ApiClients } from './auth/api-clients.js';
import { SenderBoot } from './boot/sender-boot.js';
import { ContactBook } from './contacts/contact-book.js';
import { SenderGrpcController } from './grpc/sender.controller.js';
import { SenderMetrics } from './metrics/sender.metrics.js';
import { SenderConfig } from './sender.config.js';
import { AccountRateLimiter } from './session/account-rate-limiter.js';
import { SenderService } from './session/sender.service.js';
import { SessionStore } from './session/session.store.js';

/** Sender: signs ticket batches for broadcasters. Owns sessions and nonce counters (Redis). */
@Module({})
export class SenderModule {
  static forRoot(config: SenderConfig): DynamicModule {
    return {
      module: SenderModule,
      imports: infrastructure('sender', config.values, { database: false }),
      controllers: [SenderGrpcController],
      providers: [
        { provide: SenderConfig, useValue: config },
        SenderMetrics,
        SenderAccounts,
        SenderChainView,
        ApiClients,
        ContactBook,
        SessionStore,
        AccountRateLimiter,
        SenderService,
        SenderBoot,
      ],
    };
  }
}
