import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { inject } from 'vitest';
import { DatabaseModule, WinningTicketRepository } from '#app/database';
import { QueueModule, RedemptionQueue, WinningTicketIntake } from '#app/queue';
import { startServiceProcess, waitForHttpOk, type ServiceProcess } from '#app/testing';
import {
  eventually,
  redeemerTestEnv,
  type RedeemerChainFixture,
} from '../../integration/redeemer/redeemer-fixture.js';

/** Just what the Recipient uses to hand over winning tickets: Postgres + the redemption queue. */
@Module({})
class IntakeHarness {}

export interface RedeemerIntake {
  intake: WinningTicketIntake;
  queue: RedemptionQueue;
  tickets: WinningTicketRepository;
  ds: DataSource;
  close(): Promise<void>;
}

/** The Recipient's side of the hand-over, on `databaseUrl` and the test Redis under `redisPrefix`. */
export async function redeemerIntake(databaseUrl: string, redisPrefix: string): Promise<RedeemerIntake> {
  const ctx: INestApplicationContext = await NestFactory.createApplicationContext(
    {
      module: IntakeHarness,
      imports: [
        DatabaseModule.forRoot(databaseUrl),
        QueueModule.forRoot({ redisUrl: inject('redisUrl'), redisPrefix }),
      ],
    },
    { logger: false },
  );
  return {
    intake: ctx.get(WinningTicketIntake),
    queue: ctx.get(RedemptionQueue),
    tickets: ctx.get(WinningTicketRepository),
    ds: ctx.get(DataSource),
    close: () => ctx.close(),
  };
}

const OPS_TOKEN = 'e2e-redeemer-ops-token-0123456789';

export interface RedeemerSettings {
  databaseUrl: string;
  redisPrefix: string;
  /** The chain as the Redeemer reaches it (anvil itself, or a proxy in front of it). */
  rpcUrl: string;
  httpPort: number;
  retryMaxMs?: number;
}

/** The built Redeemer's environment on the test Redis, retrying soon so faults play out in seconds. */
export function redeemerEnv(fx: RedeemerChainFixture, s: RedeemerSettings): Record<string, string> {
  return {
    DATABASE_URL: s.databaseUrl,
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: s.redisPrefix,
    ETH_RPC_URL: s.rpcUrl,
    ...redeemerTestEnv(fx),
    REDEEMER_HTTP_PORT: String(s.httpPort),
    REDEEMER_BATCH_WINDOW_MS: '50',
    REDEEMER_RETRY_BASE_MS: '200',
    REDEEMER_RETRY_MAX_MS: String(s.retryMaxMs ?? 1_000),
    REDEEMER_RECONCILE_INTERVAL_MS: '1000',
    REDEEMER_OPS_TOKEN: OPS_TOKEN,
  };
}

/** Waits until the Redeemer on `httpPort` reports `want` on `/ops/status` (`active`: it redeems). */
export async function untilRedeemerState(httpPort: number, want: string, timeoutMs?: number): Promise<void> {
  await eventually(
    async () => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/ops/status`, {
        headers: { authorization: `Bearer ${OPS_TOKEN}` },
      });
      const body = (await res.json()) as { state?: string };
      return body.state === want ? true : undefined;
    },
    `the redeemer to be ${want}`,
    timeoutMs,
  );
}

/** Starts the built Redeemer with `env` (from redeemerEnv) and waits until it redeems. */
export async function startActiveRedeemer(env: Record<string, string>): Promise<ServiceProcess> {
  const httpPort = Number(env.REDEEMER_HTTP_PORT);
  const svc = startServiceProcess('redeemer', env);
  await waitForHttpOk(`http://127.0.0.1:${httpPort}/health`, svc);
  await untilRedeemerState(httpPort, 'active');
  return svc;
}
