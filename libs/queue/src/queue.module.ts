import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule } from '@nestjs/common';
import { bullPrefix, PARAMS_EXPIRY_MARGIN_BLOCKS, QueueName } from './queues.js';
import { RedemptionQueue } from './redemption-queue.js';
import { RedemptionReconciler } from './redemption-reconciler.js';
import { INTAKE_OPTIONS, WinningTicketIntake, type IntakeOptions } from './winning-ticket-intake.js';

export interface QueueModuleOptions {
  redisUrl: string;
  redisPrefix: string;
  /** Given: the intake re-enqueues its stored tickets whose job went missing (the Recipient). */
  intake?: IntakeOptions;
  /**
   * The Redeemer's REDEEMER_PARAMS_EXPIRY_MARGIN_BLOCKS where it is known (the Redeemer's own
   * process), for timing new jobs' first runs; DEFAULT_PARAMS_EXPIRY_MARGIN_BLOCKS elsewhere.
   */
  paramsExpiryMarginBlocks?: number;
}

/**
 * BullMQ connection, the redemption queue (RedemptionQueue, the only handle on it), the intake and
 * the reconciler, keyed under the deployment's prefix.
 */
@Module({})
export class QueueModule {
  static forRoot(options: QueueModuleOptions): DynamicModule {
    const url = new URL(options.redisUrl);
    return {
      module: QueueModule,
      global: true,
      imports: [
        BullModule.forRoot({
          prefix: bullPrefix(options.redisPrefix),
          connection: {
            host: url.hostname,
            port: Number(url.port || 6379),
            username: url.username ? decodeURIComponent(url.username) : undefined,
            password: url.password ? decodeURIComponent(url.password) : undefined,
            db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
            tls: url.protocol === 'rediss:' ? {} : undefined,
            // BullMQ workers block on Redis; they must not give up on a slow reply.
            maxRetriesPerRequest: null,
          },
        }),
        BullModule.registerQueue({ name: QueueName.TICKET_REDEMPTION }),
      ],
      providers: [
        RedemptionQueue,
        RedemptionReconciler,
        WinningTicketIntake,
        ...(options.intake ? [{ provide: INTAKE_OPTIONS, useValue: options.intake }] : []),
        ...(options.paramsExpiryMarginBlocks === undefined
          ? []
          : [{ provide: PARAMS_EXPIRY_MARGIN_BLOCKS, useValue: options.paramsExpiryMarginBlocks }]),
      ],
      exports: [RedemptionQueue, RedemptionReconciler, WinningTicketIntake, BullModule],
    };
  }
}
