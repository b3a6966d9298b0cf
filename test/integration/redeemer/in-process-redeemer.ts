import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { inject } from 'vitest';
import { bootstrapService } from '#app/common';
import { WinningTicketRepository, type WinningTicketEntity, type WinningTicketStatus } from '#app/database';
import { WinningTicketIntake } from '#app/queue';
import { RedeemerConfig } from '../../../apps/redeemer/src/redeemer.config.js';
import { RedeemerLifecycle } from '../../../apps/redeemer/src/redeemer.lifecycle.js';
import { RedeemerModule } from '../../../apps/redeemer/src/redeemer.module.js';
import type { SignedTicket } from '#app/ticket';
import { eventually, hashOf, redeemerTestEnv, type RedeemerChainFixture } from './redeemer-fixture.js';

export interface InProcessRedeemer {
  app: INestApplication;
  /** Base URL of its HTTP server (/ops, /health, /metrics). */
  url: string;
  /** The Recipient's way in for winning tickets. */
  intake: WinningTicketIntake;
  tickets: WinningTicketRepository;
  ds: DataSource;
}

/**
 * The Redeemer app in this process for `fx`, on the test Postgres and Redis under `redisPrefix`,
 * with `env` over redeemerTestEnv; resolves once it is active (it redeems), or at once when
 * `waitActive` is false (a standby or blocked one).
 */
export async function startInProcessRedeemer(
  fx: RedeemerChainFixture,
  redisPrefix: string,
  env: Record<string, string>,
  { waitActive = true }: { waitActive?: boolean } = {},
): Promise<InProcessRedeemer> {
  const config = RedeemerConfig.fromEnv({
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: redisPrefix,
    ETH_RPC_URL: fx.anvil.url,
    ...redeemerTestEnv(fx),
    ...env,
  });
  const app = await bootstrapService({
    name: 'redeemer',
    module: RedeemerModule.forRoot(config),
    logger: new ConsoleLogger('test', { logLevels: ['fatal', 'error'] }),
    http: { host: '127.0.0.1', port: 0 },
    exitOnSignals: false,
  });
  const url = await app.getUrl();
  if (waitActive) await app.get(RedeemerLifecycle).whenActive();
  return {
    app,
    url,
    intake: app.get(WinningTicketIntake),
    tickets: app.get(WinningTicketRepository),
    ds: app.get(DataSource),
  };
}

/** A ticket's row, and waiting for its status, over the repository `tickets()` returns (set in beforeAll). */
export function ticketRows(tickets: () => WinningTicketRepository): {
  row: (t: SignedTicket) => Promise<WinningTicketEntity>;
  until: (t: SignedTicket, status: WinningTicketStatus) => Promise<WinningTicketEntity>;
} {
  const row = async (t: SignedTicket) => (await tickets().findByHash(hashOf(t)))!;
  const until = async (t: SignedTicket, status: WinningTicketStatus) => {
    try {
      return await eventually(
        async () => {
          const r = await row(t);
          return r.status === status ? r : undefined;
        },
        `ticket ${hashOf(t)} to be ${status}`,
      );
    } catch (err) {
      // Where it stands instead, for the failure's message.
      const r = await tickets().findByHash(hashOf(t));
      throw new Error(
        `${(err as Error).message} (it is ${r ? `${r.status}, ${r.statusReason ?? 'no reason'}` : 'gone'})`,
        {
          cause: err,
        },
      );
    }
  };
  return { row, until };
}
