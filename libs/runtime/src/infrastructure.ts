import type { DynamicModule, Type } from '@nestjs/common';
import { ChainModule, ChainProbe } from '#app/chain';
import {
  HealthModule,
  MetricsModule,
  RedisModule,
  RedisProbe,
  type HealthProbe,
  type INFRA_ENV,
  type EnvValues,
} from '#app/common';
import { DatabaseModule, DatabaseProbe } from '#app/database';

export interface InfrastructureNeeds {
  /** Services that own Postgres state (winning tickets, redemptions) ask for it; the Sender does not. */
  database: boolean;
  /**
   * Whether the service reads the polled chain facts (ChainFacts). The SenderMonitor's ChainWatcher
   * owns its chain view and the ops API reads none, so neither polls the head a second time.
   */
  chainFacts: boolean;
  /**
   * Whether the shared Redis client pipelines the commands of one tick into one write: for a
   * service whose hot path is Redis calls from concurrent requests (the Sender's session scripts).
   */
  redisAutoPipelining?: boolean;
}

/**
 * The modules every service is built on, wired from the shared settings: metrics, Redis, the
 * chain (discovered from the Controller), Postgres when needed, and a health check over all of them.
 */
export function infrastructure(
  service: string,
  env: EnvValues<typeof INFRA_ENV>,
  needs: InfrastructureNeeds,
): DynamicModule[] {
  const probes: Type<HealthProbe>[] = [RedisProbe, ChainProbe];
  const modules: DynamicModule[] = [
    MetricsModule.forRoot(service),
    RedisModule.forRoot({
      url: env.REDIS_URL,
      prefix: env.REDIS_PREFIX,
      autoPipelining: needs.redisAutoPipelining,
    }),
    ChainModule.forRoot({
      rpcUrl: env.ETH_RPC_URL,
      requestTimeoutMs: env.ETH_RPC_TIMEOUT_MS,
      controllerAddress: env.CONTROLLER_ADDRESS,
      facts: needs.chainFacts && {
        l1BlockSource: env.ETH_L1_BLOCK_SOURCE,
        minGasPrice: env.ETH_MIN_GAS_PRICE,
      },
    }),
  ];
  if (needs.database) {
    modules.push(DatabaseModule.forRoot(env.DATABASE_URL));
    probes.unshift(DatabaseProbe);
  }
  modules.push(HealthModule.forRoot(probes));
  return modules;
}
