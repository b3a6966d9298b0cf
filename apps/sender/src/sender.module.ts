import { Module, type Provider, type Type } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { HttpModuleDefinition } from '#app/common';
import { infrastructure } from '#app/runtime';
import { SenderAccounts } from './accounts/sender-accounts.js';
import { SenderChainView } from './accounts/sender-chain-view.js';
import { ApiClients } from './auth/api-clients.js';
import { SenderBoot } from './boot/sender-boot.js';
import { ContactBook } from './contacts/contact-book.js';
import { SenderGrpcController } from './grpc/sender.controller.js';
import { SpendCaps } from './auth/spend-caps.js';
import { SenderMetrics } from './metrics/sender.metrics.js';
import { AccountSignatures } from './remote-signer/account-signatures.js';
import { OrchestratorPool } from './remote-signer/discovery/orchestrator-pool.js';
import { orchestratorSources } from './remote-signer/discovery/orchestrator-sources.js';
import { RemoteCallers } from './remote-signer/remote-callers.js';
import { RemoteSignerController } from './remote-signer/remote-signer.controller.js';
import { RemoteSignerPathFilter } from './remote-signer/remote-signer.filter.js';
import { RemoteSignerService } from './remote-signer/remote-signer.service.js';
import { readSignerBody } from './remote-signer/signer-body.js';
import { SignerWebhook } from './remote-signer/signer-webhook.js';
import { StateSeal } from './remote-signer/state-seal.js';
import { SenderConfig } from './sender.config.js';
import { AccountRateLimiter } from './session/account-rate-limiter.js';
import { SenderService } from './session/sender.service.js';
import { SessionStore } from './session/session.store.js';

/** Sender: signs ticket batches for broadcasters. Owns sessions and nonce counters (Redis). */
@Module({})
export class SenderModule {
  static forRoot(config: SenderConfig): HttpModuleDefinition {
    // go-livepeer's remote signer API on the HTTP port, only when asked for (SENDER_REMOTE_SIGNER).
    const remoteSigner = config.values.SENDER_REMOTE_SIGNER;
    const signerControllers: Type[] = remoteSigner ? [RemoteSignerController] : [];
    const signerProviders: Provider[] = remoteSigner
      ? [
          AccountSignatures,
          StateSeal,
          SignerWebhook,
          RemoteCallers,
          RemoteSignerService,
          OrchestratorPool,
          orchestratorSources({
            webhookUrl: config.values.SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL,
            listed: config.values.SENDER_REMOTE_SIGNER_ORCHESTRATORS,
          }),
          { provide: APP_FILTER, useClass: RemoteSignerPathFilter },
        ]
      : [];
    return {
      module: SenderModule,
      // The signer paths read their raw body themselves, whatever its Content-Type.
      beforeBodyParsers: remoteSigner ? [readSignerBody] : [],
      imports: infrastructure('sender', config.values, {
        database: false,
        chainFacts: true,
        redisAutoPipelining: true,
      }),
      controllers: [SenderGrpcController, ...signerControllers],
      providers: [
        { provide: SenderConfig, useValue: config },
        SenderMetrics,
        SenderAccounts,
        SenderChainView,
        ApiClients,
        ContactBook,
        SessionStore,
        AccountRateLimiter,
        SpendCaps,
        SenderService,
        SenderBoot,
        ...signerProviders,
      ],
    };
  }
}
