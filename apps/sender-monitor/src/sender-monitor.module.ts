import { Module, type DynamicModule } from '@nestjs/common';
import { ChainWatcherModule } from '#app/chain';
import { QueueModule } from '#app/queue';
import { infrastructure } from '#app/runtime';
import { SenderMonitor } from '#app/ticket';
import { SenderMonitorExceptionFilter } from './grpc/grpc-errors.js';
import { SenderMonitorController } from './grpc/sender-monitor.controller.js';
import { TicketRedeemerController } from './grpc/ticket-redeemer.controller.js';
import { SenderMonitorMetrics } from './metrics/sender-monitor.metrics.js';
import { NewWinnersListener } from './monitor/new-winners-listener.js';
import { PendingRedemptions } from './monitor/pending-redemptions.js';
import { SENDER_MONITOR_OPTIONS, type SenderMonitorOptions } from './monitor/sender-monitor.options.js';
import { LocalSenderMonitor } from './monitor/sender-monitor.service.js';
import { SenderMonitorConfig } from './sender-monitor.config.js';

/** SenderMonitor: watches the chain and serves each sender's max float; go-livepeer's TicketRedeemer gRPC. */
@Module({})
export class SenderMonitorModule {
  static forRoot(config: SenderMonitorConfig): DynamicModule {
    const env = config.values;
    const options: SenderMonitorOptions = {
      recipients: env.SENDER_MONITOR_RECIPIENTS,
      senderTtlMs: env.SENDER_MONITOR_SENDER_TTL_SECONDS * 1_000,
      cleanupIntervalMs: env.SENDER_MONITOR_CLEANUP_INTERVAL_SECONDS * 1_000,
      pendingRefreshMs: env.SENDER_MONITOR_POLL_INTERVAL_MS,
      databaseUrl: env.DATABASE_URL,
    };
    return {
      module: SenderMonitorModule,
      imports: [
        ...infrastructure('sender-monitor', env, { database: true, chainFacts: false }),
        QueueModule.forRoot({ redisUrl: env.REDIS_URL, redisPrefix: env.REDIS_PREFIX }),
        ChainWatcherModule.forRoot({
          l1BlockSource: env.ETH_L1_BLOCK_SOURCE,
          pollIntervalMs: env.SENDER_MONITOR_POLL_INTERVAL_MS,
          gas: { minGasPrice: env.ETH_MIN_GAS_PRICE },
          claimants: env.SENDER_MONITOR_RECIPIENTS,
          logsMaxBlocks: env.ETH_LOGS_MAX_BLOCKS,
          maxBackfillBlocks: env.SENDER_MONITOR_MAX_BACKFILL_BLOCKS,
          rpcTimeoutMs: env.SENDER_MONITOR_RPC_TIMEOUT_MS,
        }),
      ],
      controllers: [TicketRedeemerController, SenderMonitorController],
      providers: [
        { provide: SenderMonitorConfig, useValue: config },
        { provide: SENDER_MONITOR_OPTIONS, useValue: options },
        SenderMonitorMetrics,
        SenderMonitorExceptionFilter,
        PendingRedemptions,
        NewWinnersListener,
        LocalSenderMonitor,
        { provide: SenderMonitor, useExisting: LocalSenderMonitor },
      ],
      exports: [LocalSenderMonitor, SenderMonitor],
    };
  }
}
