import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import { inject } from 'vitest';
import { bootstrapService } from '#app/common';
import { WinningTicketIntake } from '#app/queue';
import { freePort } from '#app/testing';
import { OpsConfig } from '../../../apps/ops/src/ops.config.js';
import { OpsModule } from '../../../apps/ops/src/ops.module.js';
import { RedeemerConfig } from '../../../apps/redeemer/src/redeemer.config.js';
import { RedeemerLifecycle } from '../../../apps/redeemer/src/redeemer.lifecycle.js';
import { RedeemerModule } from '../../../apps/redeemer/src/redeemer.module.js';
import { SENDER_MONITOR_GRPC } from '../../../apps/sender-monitor/src/grpc/sender-monitor.proto-paths.js';
import { SenderMonitorConfig } from '../../../apps/sender-monitor/src/sender-monitor.config.js';
import { SenderMonitorModule } from '../../../apps/sender-monitor/src/sender-monitor.module.js';
import {
  redeemerTestEnv,
  startRedeemerChain,
  type RedeemerChainFixture,
} from '../redeemer/redeemer-fixture.js';
import { privateDatabase } from '../../support/private-database.js';

export const OPS_TOKEN = 'ops-test-token-0123456789abcdef';
const REDEEMER_TOKEN = 'ops-test-redeemer-token-0123456789';

export interface OpsStack {
  fx: RedeemerChainFixture;
  ops: INestApplication;
  opsUrl: string;
  redeemerUrl: string;
  /** The SenderMonitor's HTTP base URL (/metrics, /health). */
  monitorUrl: string;
  /** Stores a winning ticket the way the Recipient does (Postgres, then the redemption queue). */
  intake: WinningTicketIntake;
  stop(): Promise<void>;
}

const quiet = () => new ConsoleLogger('test', { logLevels: ['fatal'] });

/**
 * The services the ops API reads, in this process, on one dev chain: the SenderMonitor (gRPC),
 * the Redeemer (its /ops endpoint, signing with the recipient's key) and the ops service itself.
 */
export async function startOpsStack(name: string, opsEnv: Record<string, string> = {}): Promise<OpsStack> {
  const fx = await startRedeemerChain();
  // The ops API reports totals over the whole database: a private one keeps other files' winners out.
  const db = await privateDatabase(`ops_${name}`);
  const base = {
    DATABASE_URL: db.url,
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: `${inject('redisPrefix')}${name}:`,
    ETH_RPC_URL: fx.anvil.url,
    CONTROLLER_ADDRESS: fx.protocol.controller,
  };
  const apps: INestApplication[] = [];
  try {
    const monitorGrpc = `127.0.0.1:${await freePort()}`;
    const monitor = await bootstrapService({
      name: 'sender-monitor',
      module: SenderMonitorModule.forRoot(
        SenderMonitorConfig.fromEnv({
          ...base,
          SENDER_MONITOR_GRPC_URL: monitorGrpc,
          SENDER_MONITOR_RECIPIENTS: fx.recipient.address,
          SENDER_MONITOR_POLL_INTERVAL_MS: '200',
        }),
      ),
      logger: quiet(),
      http: { host: '127.0.0.1', port: 0 },
      grpc: { url: monitorGrpc, ...SENDER_MONITOR_GRPC },
      exitOnSignals: false,
    });
    apps.push(monitor);
    const redeemer = await bootstrapService({
      name: 'redeemer',
      module: RedeemerModule.forRoot(
        RedeemerConfig.fromEnv({
          ...base,
          ...redeemerTestEnv(fx),
          REDEEMER_BATCH_WINDOW_MS: '200',
          REDEEMER_RETRY_BASE_MS: '200',
          REDEEMER_RETRY_MAX_MS: '2000',
          REDEEMER_RECONCILE_INTERVAL_MS: '500',
          REDEEMER_OPS_TOKEN: REDEEMER_TOKEN,
        }),
      ),
      logger: quiet(),
      http: { host: '127.0.0.1', port: 0 },
      exitOnSignals: false,
    });
    apps.push(redeemer);
    await redeemer.get(RedeemerLifecycle).whenActive();
    const redeemerUrl = await redeemer.getUrl();
    const ops = await bootstrapService({
      name: 'ops',
      module: OpsModule.forRoot(
        OpsConfig.fromEnv({
          ...base,
          OPS_API_TOKEN: OPS_TOKEN,
          OPS_RECIPIENT_ADDRESS: fx.recipient.address,
          SENDER_MONITOR_GRPC_URL: monitorGrpc,
          REDEEMER_URL: redeemerUrl,
          REDEEMER_OPS_TOKEN: REDEEMER_TOKEN,
          OPS_TX_URL_TEMPLATE: 'https://explorer.example/tx/{hash}',
          ...opsEnv,
        }),
      ),
      logger: quiet(),
      http: { host: '127.0.0.1', port: 0 },
      exitOnSignals: false,
    });
    apps.push(ops);
    return {
      fx,
      ops,
      opsUrl: (await ops.getUrl()).replace('[::1]', '127.0.0.1'),
      redeemerUrl,
      monitorUrl: (await monitor.getUrl()).replace('[::1]', '127.0.0.1'),
      intake: ops.get(WinningTicketIntake),
      stop: async () => {
        for (const app of apps.reverse()) await app.close();
        await fx.stop();
        await db.drop();
      },
    };
  } catch (err) {
    for (const app of apps.reverse()) await app.close().catch(() => undefined);
    await fx.stop();
    await db.drop();
    throw err;
  }
}
