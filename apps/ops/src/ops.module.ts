import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { RemoteSenderMonitor } from '#app/clients';
import { grpcClientCredentials } from '#app/common';
import { QueueModule } from '#app/queue';
import { infrastructure } from '#app/runtime';
import { OpsAuthGuard } from './auth/ops-auth.guard.js';
import { SignedRequestVerifier } from './auth/signed-request.verifier.js';
import { RedeemerOpsClient } from './clients/redeemer-ops.client.js';
import { DashboardController } from './dashboard/dashboard.controller.js';
import { DocsController } from './docs/docs.controller.js';
import { OpsHttpFilter } from './http/ops-http.filter.js';
import { OpsConfig } from './ops.config.js';
import { QueueBoardModule } from './queue-board/queue-board.module.js';
import { SenderReads } from './senders/sender-reads.service.js';
import { SendersController } from './senders/senders.controller.js';
import { RecipientCountersSampler } from './stats/recipient-counters.sampler.js';
import { StatsController } from './stats/stats.controller.js';
import { StatsService } from './stats/stats.service.js';
import { TicketReads } from './tickets/ticket-reads.service.js';
import { TicketsController } from './tickets/tickets.controller.js';

/**
 * The ops service: a read-mostly HTTP API over Postgres (winning tickets, redemptions, txs),
 * BullMQ (queue depth) and the SenderMonitor (gRPC); redemptions are started through the
 * Redeemer's own ops endpoint. Serves the dashboard, the OpenAPI document and Bull Board too.
 */
@Module({})
export class OpsModule {
  static forRoot(config: OpsConfig): DynamicModule {
    const env = config.values;
    // Read at boot, not in the factory: a bad GRPC_TLS_* setting is a ConfigError (exit 78).
    const credentials = grpcClientCredentials(env);
    return {
      module: OpsModule,
      imports: [
        ...infrastructure('ops', env, { database: true, chainFacts: false }),
        QueueModule.forRoot({ redisUrl: env.REDIS_URL, redisPrefix: env.REDIS_PREFIX }),
        QueueBoardModule.forRoot(config),
      ],
      controllers: [
        TicketsController,
        SendersController,
        StatsController,
        DocsController,
        DashboardController,
      ],
      providers: [
        { provide: OpsConfig, useValue: config },
        // Global too: a body the JSON parser rejects fails before any controller's filter runs,
        // and must still get the API's coded `{domain, code, message}` answer.
        { provide: APP_FILTER, useClass: OpsHttpFilter },
        {
          provide: RemoteSenderMonitor,
          useFactory: () =>
            new RemoteSenderMonitor({
              target: env.SENDER_MONITOR_GRPC_URL,
              credentials,
              callTimeoutMs: 5_000,
            }),
        },
        OpsAuthGuard,
        SignedRequestVerifier,
        RedeemerOpsClient,
        TicketReads,
        SenderReads,
        StatsService,
        RecipientCountersSampler,
      ],
    };
  }
}
