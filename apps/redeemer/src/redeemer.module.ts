import {
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type Provider,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Wallet } from 'ethers';
import { ChainClient, TxManager, TxStore, loadSigner } from '#app/chain';
import { PgTxStore, SignerLease } from '#app/database';
import { QueueModule, RedemptionJobHandler, RedemptionWorker } from '#app/queue';
import { infrastructure } from '#app/runtime';
import { FeeWithdrawalService } from './fees/fee-withdrawal.service.js';
import { RoundInitializer } from './rounds/round-initializer.js';
import { RedeemerMetrics } from './metrics/redeemer.metrics.js';
import { OpsController } from './ops/ops.controller.js';
import { OpsPathFilter } from './ops/ops-http.filter.js';
import { OpsTokenGuard } from './ops/ops-token.guard.js';
import { RedeemerStatusService } from './ops/redeemer-status.service.js';
import { RedeemerConfig } from './redeemer.config.js';
import { RedeemerLifecycle } from './redeemer.lifecycle.js';
import { InFlight } from './redemption/in-flight.js';
import { RedeemerChain } from './redemption/redeemer-chain.js';
import { RedemptionBatcher } from './redemption/redemption-batcher.js';
import { RedemptionGas } from './redemption/redemption-gas.js';
import { RedemptionService } from './redemption/redemption.service.js';
import { BlockSpace } from './redemption/block-space.js';
import { RoundEndMargin } from './redemption/round-end-margin.js';
import { SettlementService } from './redemption/settlement.service.js';

export const REDEEMER_WALLET = Symbol('REDEEMER_WALLET');

/** Without a signing key the service still boots (health, metrics) and says why it redeems nothing. */
@Injectable()
class RedemptionDisabledNotice implements OnApplicationBootstrap {
  onApplicationBootstrap(): void {
    new Logger('RedeemerModule').warn({
      msg: 'no signer configured (REDEEMER_KEYSTORE_FILE or REDEEMER_PRIVATE_KEY): redemption is disabled',
    });
  }
}

/** Redeemer: BullMQ workers that redeem winning tickets on the TicketBroker exactly once. */
@Module({})
export class RedeemerModule {
  static forRoot(config: RedeemerConfig): DynamicModule {
    const v = config.values;
    const imports = [
      ...infrastructure('redeemer', v, { database: true, chainFacts: true }),
      QueueModule.forRoot({
        redisUrl: v.REDIS_URL,
        redisPrefix: v.REDIS_PREFIX,
        paramsExpiryMarginBlocks: v.REDEEMER_PARAMS_EXPIRY_MARGIN_BLOCKS,
      }),
    ];
    const base: Provider[] = [{ provide: RedeemerConfig, useValue: config }, RedeemerMetrics];
    const source = config.signerSource();
    if (!source) {
      return { module: RedeemerModule, imports, providers: [...base, RedemptionDisabledNotice] };
    }

    const providers: Provider[] = [
      ...base,
      // Not connected here: the chain connection may only come up after boot.
      { provide: REDEEMER_WALLET, useFactory: () => loadSigner(source) },
      { provide: TxStore, useClass: PgTxStore },
      {
        provide: TxManager,
        useFactory: (
          wallet: Wallet,
          chain: ChainClient,
          store: TxStore,
          metrics: RedeemerMetrics,
          margin: RoundEndMargin,
          space: BlockSpace,
        ) =>
          new TxManager(
            wallet,
            () => chain.provider,
            store,
            {
              confirmations: v.REDEEMER_CONFIRMATIONS,
              stuckBlocks: v.REDEEMER_STUCK_TX_BLOCKS,
              feeBumpPercent: v.REDEEMER_FEE_BUMP_PERCENT,
              maxReplacements: v.REDEEMER_MAX_FEE_BUMPS,
              maxGasPrice: v.REDEEMER_MAX_GAS_PRICE,
              pollIntervalMs: v.REDEEMER_TX_POLL_MS,
            },
            {
              replaced: () => metrics.replacements.inc(),
              finished: (record, receipt, since) => {
                metrics.txFinished(record, since);
                // Where receipts are seen: the round-end margin learns how long txs take to be mined.
                margin.finished(record, receipt);
                space.finished(record, receipt);
              },
            },
          ),
        inject: [REDEEMER_WALLET, ChainClient, TxStore, RedeemerMetrics, RoundEndMargin, BlockSpace],
      },
      RoundEndMargin,
      BlockSpace,
      SignerLease,
      RedeemerChain,
      InFlight,
      SettlementService,
      RedemptionBatcher,
      RedemptionGas,
      RedemptionService,
      { provide: RedemptionJobHandler, useExisting: RedemptionService },
      RedemptionWorker,
      FeeWithdrawalService,
      RoundInitializer,
      RedeemerLifecycle,
      RedeemerStatusService,
      OpsTokenGuard,
      // Global: a bad /ops request can fail before OpsController's own filter runs.
      { provide: APP_FILTER, useClass: OpsPathFilter },
    ];
    return {
      module: RedeemerModule,
      imports,
      providers,
      controllers: v.REDEEMER_OPS_TOKEN ? [OpsController] : [],
    };
  }
}
