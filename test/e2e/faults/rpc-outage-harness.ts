import { createServer, type Socket } from 'node:net';
import type { DataSource } from 'typeorm';
import { inject } from 'vitest';
import type { WinningTicketRepository } from '#app/database';
import type { RedemptionQueue, WinningTicketIntake } from '#app/queue';
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
import { redeemerEnv, redeemerIntake, startActiveRedeemer } from '../support/redeemer-process.js';

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

/**
 * A dev chain behind a TCP proxy, a private database, and the built Redeemer whose only way to the
 * chain is the proxy; plus the Recipient's intake (Postgres + queue) to hand it winning tickets.
 */
export interface RedeemerBehindProxy {
  fx: RedeemerChainFixture;
  proxy: TcpProxy;
  database: PrivateDatabase;
  intake: WinningTicketIntake;
  /** The intake's handle on the redemption queue (no block pace here: its jobs run at once). */
  queue: RedemptionQueue;
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
  const intake = await redeemerIntake(database.url, redisPrefix);
  const httpPort = await freePort();
  const env = redeemerEnv(fx, { databaseUrl: database.url, redisPrefix, rpcUrl: proxy.url, httpPort });
  return {
    fx,
    proxy,
    database,
    intake: intake.intake,
    queue: intake.queue,
    tickets: intake.tickets,
    ds: intake.ds,
    httpPort,
    start: () => startActiveRedeemer(env),
    txCount: async (tag) =>
      Number(await fx.provider.send('eth_getTransactionCount', [fx.recipient.address, tag])),
    async stop() {
      await intake.close();
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
