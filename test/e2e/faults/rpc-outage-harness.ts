import { spawnSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { inject } from 'vitest';
import { repoRoot } from '#app/common';
import { DatabaseModule, WinningTicketRepository } from '#app/database';
import { QueueModule, WinningTicketIntake } from '#app/queue';
import {
  freePort,
  startServiceProcess,
  startTcpProxy,
  waitForHttpOk,
  type ServiceProcess,
  type TcpProxy,
} from '#app/testing';
import {
  eventually,
  startRedeemerChain,
  type RedeemerChainFixture,
} from '../../integration/redeemer/redeemer-fixture.js';
import {
  ALWAYS_WIN,
  startHarness,
  type Env,
  type RecipientHarness,
} from '../../integration/recipient/recipient-fixture.js';
import { privateDatabase, type PrivateDatabase } from '../../support/private-database.js';

/** Compiles the services to dist/ (incremental: cheap when up to date). */
export function buildServices(): void {
  const build = spawnSync(
    process.execPath,
    [join(repoRoot(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: repoRoot(), encoding: 'utf8' },
  );
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
}

/** What `/health` says about the chain: up with details, or down with a message. */
async function chainHealth(httpPort: number): Promise<{ httpStatus: number; chain?: string }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/health`);
  const body = (await res.json()) as { details?: Record<string, { status?: string }> };
  return { httpStatus: res.status, chain: body.details?.chain?.status };
}

/** Waits until `/health` reports the chain `up` (200) or `down` (503). */
export async function untilChainHealth(httpPort: number, want: 'up' | 'down'): Promise<void> {
  await eventually(async () => {
    const h = await chainHealth(httpPort);
    return h.chain === want && h.httpStatus === (want === 'up' ? 200 : 503) ? true : undefined;
  }, `/health to report the chain ${want}`);
}

@Module({})
class IntakeHarness {}

const OPS_TOKEN = 'rpc-outage-redeemer-ops-token-0123456789';

/**
 * A dev chain behind a TCP proxy, a private database, and the built Redeemer whose only way to the
 * chain is the proxy; plus the Recipient's intake (Postgres + queue) to hand it winning tickets.
 */
export interface RedeemerBehindProxy {
  fx: RedeemerChainFixture;
  proxy: TcpProxy;
  database: PrivateDatabase;
  intake: WinningTicketIntake;
  tickets: WinningTicketRepository;
  ds: DataSource;
  httpPort: number;
  /** Starts the Redeemer process and waits until it redeems (`/ops/status` active). */
  start(): Promise<ServiceProcess>;
  /** The signer's transaction count, read straight from anvil (not through the proxy). */
  txCount(tag: 'latest' | 'pending'): Promise<number>;
  stop(): Promise<void>;
}

export async function redeemerBehindProxy(name: string): Promise<RedeemerBehindProxy> {
  const database = await privateDatabase(name);
  const fx = await startRedeemerChain();
  const proxy = await startTcpProxy(fx.anvil.port);
  const redisPrefix = `${inject('redisPrefix')}${name}:`;
  const ctx: INestApplicationContext = await NestFactory.createApplicationContext(
    {
      module: IntakeHarness,
      imports: [
        DatabaseModule.forRoot(database.url),
        QueueModule.forRoot({ redisUrl: inject('redisUrl'), redisPrefix }),
      ],
    },
    { logger: false },
  );
  const httpPort = await freePort();
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: redisPrefix,
    ETH_RPC_URL: proxy.url,
    CONTROLLER_ADDRESS: fx.protocol.controller,
    REDEEMER_HTTP_PORT: String(httpPort),
    REDEEMER_PRIVATE_KEY: fx.recipient.privateKey,
    REDEEMER_RECIPIENTS: fx.recipient.address,
    REDEEMER_CONFIRMATIONS: '1',
    REDEEMER_PARAMS_EXPIRY_MARGIN_BLOCKS: '0',
    REDEEMER_BATCH_WINDOW_MS: '50',
    REDEEMER_POLL_MS: '250',
    REDEEMER_TX_POLL_MS: '100',
    REDEEMER_RETRY_BASE_MS: '200',
    REDEEMER_RETRY_MAX_MS: '1000',
    REDEEMER_RECONCILE_INTERVAL_MS: '1000',
    REDEEMER_OPS_TOKEN: OPS_TOKEN,
  };
  return {
    fx,
    proxy,
    database,
    intake: ctx.get(WinningTicketIntake),
    tickets: ctx.get(WinningTicketRepository),
    ds: ctx.get(DataSource),
    httpPort,
    async start() {
      const svc = startServiceProcess('redeemer', env);
      await waitForHttpOk(`http://127.0.0.1:${httpPort}/health`, svc);
      await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${httpPort}/ops/status`, {
          headers: { authorization: `Bearer ${OPS_TOKEN}` },
        });
        const body = (await res.json()) as { state?: string };
        return body.state === 'active' ? true : undefined;
      }, 'the redeemer to be active');
      return svc;
    },
    txCount: async (tag) =>
      Number(await fx.provider.send('eth_getTransactionCount', [fx.recipient.address, tag])),
    async stop() {
      await ctx.close();
      await proxy.stop();
      await fx.stop();
      await database.drop();
    },
  };
}

/**
 * The recipient harness's dev chain behind a TCP proxy, a private database, and the built
 * Recipient (every ticket wins) whose only way to the chain is the proxy.
 */
export interface RecipientBehindProxy {
  h: RecipientHarness;
  proxy: TcpProxy;
  database: PrivateDatabase;
  httpPort: number;
  grpcUrl: string;
  /** The Redis prefix its redemption queue lives under. */
  redisPrefix: string;
  /** Starts the Recipient process (with `extra` settings) and waits for its health check to pass. */
  start(extra?: Env): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

export async function recipientBehindProxy(name: string, overrides: Env = {}): Promise<RecipientBehindProxy> {
  const h = await startHarness(name);
  const database = await privateDatabase(name);
  const proxy = await startTcpProxy(h.anvil.port);
  const httpPort = await freePort();
  const grpcUrl = `127.0.0.1:${await freePort()}`;
  const env: Env = {
    ...h.env,
    ...ALWAYS_WIN,
    DATABASE_URL: database.url,
    ETH_RPC_URL: proxy.url,
    RECIPIENT_HTTP_PORT: String(httpPort),
    RECIPIENT_GRPC_URL: grpcUrl,
    RECIPIENT_RECONCILE_INTERVAL_SECONDS: '1',
    ...overrides,
  };
  return {
    h,
    proxy,
    database,
    httpPort,
    grpcUrl,
    redisPrefix: env.REDIS_PREFIX,
    async start(extra: Env = {}) {
      const svc = startServiceProcess('recipient', { ...env, ...extra });
      await waitForHttpOk(`http://127.0.0.1:${httpPort}/health`, svc);
      return svc;
    },
    async stop() {
      await proxy.stop();
      await h.stop();
      await database.drop();
    },
  };
}

/**
 * A listener that accepts connections and never answers: an RPC endpoint that hangs instead of
 * refusing (a partition, an overloaded node behind a load balancer). Put on the proxy's port
 * while the proxy is stopped.
 */
export async function blackhole(port: number): Promise<{ stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
