import { join } from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  type Client,
  type Metadata,
  type ClientReadableStream,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import { getBytes, toBigInt, type Wallet } from 'ethers';
import pg from 'pg';
import type { Observable, Subscription } from 'rxjs';
import { expect, inject } from 'vitest';
import { ChainWatcher } from '#app/chain';
import { bootstrapService } from '#app/common';
import { runMigrations } from '#app/database';
import {
  GRPC_LOADER_OPTIONS,
  PROTO_DIR,
  REDEEMER_PROTO,
  type MaxFloatReqMessage,
  type MaxFloatUpdateMessage,
  type TicketMessage,
} from '#app/proto';
import { freePort, startTcpProxy, type TcpProxy } from '#app/testing';
import { hexToBytes, type SignedTicket } from '#app/ticket';
import { SENDER_MONITOR_GRPC } from '../../../apps/sender-monitor/src/grpc/sender-monitor.proto-paths.js';
import { SenderMonitorConfig } from '../../../apps/sender-monitor/src/sender-monitor.config.js';
import { SenderMonitorModule } from '../../../apps/sender-monitor/src/sender-monitor.module.js';
import { startJsonRpcProxy, type JsonRpcProxy } from '../../support/json-rpc-proxy.js';
import { makeTicket, startProtocol, type ProtocolFixture } from '../contracts/protocol-fixture.js';

/** Fast polls keep the tests short; everything else is the service's real configuration. */
export const TEST_POLL_INTERVAL_MS = 100;

export interface MonitorUnderTest {
  fx: ProtocolFixture;
  /** In front of anvil: the service's ETH_RPC_URL. */
  proxy: TcpProxy;
  /** Between `proxy` and anvil when asked for (MonitorOptions.jsonRpcProxy). */
  rpc?: JsonRpcProxy;
  nest: INestApplication;
  grpcUrl: string;
  httpUrl: string;
  db: pg.Client;
  watcher: ChainWatcher;
  /** Resolves once the monitor has applied every block anvil has mined so far. */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface MonitorOptions {
  /** Puts a JSON-RPC proxy (test/support) behind the TCP proxy, for a test to make the RPC misbehave. */
  jsonRpcProxy?: boolean;
}

/**
 * The dev protocol on a fresh anvil (recipients accounts 8 and 9, both active: pool size 2) and
 * the sender-monitor booted in this process on it, through a TCP proxy, serving both recipients.
 */
export async function startMonitor(
  name: string,
  env: Record<string, string> = {},
  options: MonitorOptions = {},
): Promise<MonitorUnderTest> {
  const fx = await startProtocol();
  const rpc = options.jsonRpcProxy ? await startJsonRpcProxy(fx.anvil.url) : undefined;
  const proxy = await startTcpProxy(rpc ? Number(new URL(rpc.url).port) : fx.anvil.port);
  const databaseUrl = inject('databaseUrl');
  // The run's database is migrated by the global setup; this adds migrations newer than its build.
  await runMigrations(databaseUrl);
  const grpcUrl = `127.0.0.1:${await freePort()}`;
  const config = SenderMonitorConfig.fromEnv({
    DATABASE_URL: databaseUrl,
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: `${inject('redisPrefix')}${name}:`,
    ETH_RPC_URL: proxy.url,
    CONTROLLER_ADDRESS: fx.protocol.controller,
    SENDER_MONITOR_RECIPIENTS: fx.recipients.map((r) => r.address).join(','),
    SENDER_MONITOR_POLL_INTERVAL_MS: String(TEST_POLL_INTERVAL_MS),
    SENDER_MONITOR_RPC_TIMEOUT_MS: '2000',
    ...env,
  });
  const nest = await bootstrapService({
    name: 'sender-monitor',
    module: SenderMonitorModule.forRoot(config),
    logger: new ConsoleLogger('test', { logLevels: ['fatal'] }),
    http: { host: '127.0.0.1', port: 0 },
    grpc: { url: grpcUrl, ...SENDER_MONITOR_GRPC, drainMs: config.values.GRPC_DRAIN_MS },
    exitOnSignals: false,
  });
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const watcher = nest.get(ChainWatcher, { strict: false });
  return {
    watcher,
    caughtUp: async (timeoutMs = 10_000) => {
      const head = BigInt(await fx.anvil.provider.getBlockNumber());
      // Its events followed to the head, and the head's round facts read.
      await eventually(
        () => Promise.resolve(watcher.status().syncedBlock ?? -1n),
        (synced) => synced >= head,
        timeoutMs,
      );
      await eventually(
        () =>
          Promise.resolve(
            (() => {
              try {
                return watcher.head().block;
              } catch {
                return -1n;
              }
            })(),
          ),
        (block) => block >= head,
        timeoutMs,
      );
    },
    fx,
    proxy,
    rpc,
    nest,
    grpcUrl,
    httpUrl: await nest.getUrl(),
    db,
    stop: async () => {
      await nest.close();
      await db.end();
      await proxy.stop();
      await rpc?.stop();
      await fx.stop();
    },
  };
}

/** Records what an Observable emits, and waits for a value that satisfies a predicate. */
export class Recorder<T> {
  readonly values: T[] = [];
  error?: unknown;
  private cursor = 0;
  private readonly subscription: Subscription;
  private waiters: (() => void)[] = [];

  constructor(source: Observable<T>) {
    this.subscription = source.subscribe({
      next: (v) => {
        this.values.push(v);
        this.notify();
      },
      error: (err: unknown) => {
        this.error = err;
        this.notify();
      },
    });
  }

  /** The first value after the previous match that satisfies `predicate`. */
  async next(predicate: (v: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.values.length) {
        const v = this.values[this.cursor++];
        if (predicate(v)) return v;
      }
      if (this.error)
        throw this.error instanceof Error ? this.error : new Error('stream failed', { cause: this.error });
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no matching value within ${timeoutMs} ms; seen: ${stringify(this.values)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Values seen after the last match (to assert that nothing else arrived). */
  unread(): T[] {
    return this.values.slice(this.cursor);
  }

  close(): void {
    this.subscription.unsubscribe();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export function stringify(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

/** Polls `read` until `predicate` holds. */
export async function eventually<T>(
  read: () => Promise<T>,
  predicate: (v: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms; last: ${stringify(last)}`);
}

/** A winning ticket (winProb = MAX unless overridden) of `sender` to `recipient` for the current round, as libs/ticket types it. */
export async function winningTicket(
  fx: ProtocolFixture,
  sender: Wallet,
  recipient: string,
  faceValue: bigint,
  overrides: Parameters<typeof makeTicket>[4] = {},
): Promise<SignedTicket> {
  const t = await makeTicket(fx, sender, recipient, faceValue, overrides);
  const aux = getBytes(t.ticket.auxData);
  return {
    recipient: hexToBytes(t.ticket.recipient.toLowerCase(), 'recipient', 20),
    sender: hexToBytes(t.ticket.sender.toLowerCase(), 'sender', 20),
    faceValue: t.ticket.faceValue,
    winProb: t.ticket.winProb,
    senderNonce: Number(t.ticket.senderNonce),
    recipientRandHash: getBytes(t.ticket.recipientRandHash),
    creationRound: toBigInt(aux.subarray(0, 32)),
    creationRoundBlockHash: aux.slice(32),
    paramsExpirationBlock: BigInt(await fx.anvil.provider.getBlockNumber()) + 40n,
    sig: getBytes(t.sig),
    recipientRand: t.recipientRand,
  };
}

// ------------------------------------------------------------------ go-livepeer's net.TicketRedeemer

type Callback<T> = (err: ServiceError | null, res?: T) => void;

export type TicketRedeemerClient = Client & {
  QueueTicket(req: TicketMessage, meta: Metadata, opts: { deadline: number }, cb: Callback<object>): void;
  MaxFloat(
    req: MaxFloatReqMessage,
    meta: Metadata,
    opts: { deadline: number },
    cb: Callback<MaxFloatUpdateMessage>,
  ): void;
  MonitorMaxFloat(req: MaxFloatReqMessage): ClientReadableStream<MaxFloatUpdateMessage>;
};

/** A plain @grpc/grpc-js client of go-livepeer's redeemer.proto, as an orchestrator would use. */
export function ticketRedeemerClient(target: string): TicketRedeemerClient {
  const definition = loadSync(join(PROTO_DIR, REDEEMER_PROTO), {
    ...GRPC_LOADER_OPTIONS,
    includeDirs: [PROTO_DIR],
  });
  const pkg = loadPackageDefinition(definition) as unknown as {
    net: { TicketRedeemer: ServiceClientConstructor };
  };
  return new pkg.net.TicketRedeemer(target, credentials.createInsecure()) as unknown as TicketRedeemerClient;
}

export function unary<T>(call: (cb: Callback<T>, opts: { deadline: number }) => void): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    call((err, res) => (err ? reject(err) : resolve(res as T)), { deadline: Date.now() + 8_000 }),
  );
}

/** A metric's value as the /metrics page shows it (first series matching `labels`). */
export async function metric(httpUrl: string, name: string, labels = ''): Promise<number | undefined> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const [series, value] = line.split(' ');
    if (series === name || (series.startsWith(`${name}{`) && series.includes(labels))) return Number(value);
  }
  return undefined;
}

/** The ReserveFunded and NewRound events the monitor has applied so far (its counter). */
export async function chainEventCounts(httpUrl: string): Promise<{ funded: number; rounds: number }> {
  const count = async (event: string) =>
    (await metric(httpUrl, 'sender_monitor_chain_events_total', `event="${event}"`)) ?? 0;
  return { funded: await count('ReserveFunded'), rounds: await count('NewRound') };
}

/** Both kinds of event were applied since `before`, and no gap was resynced: replayed from the logs. */
export async function expectReplayedFromLogs(
  httpUrl: string,
  before: { funded: number; rounds: number },
): Promise<void> {
  const after = await chainEventCounts(httpUrl);
  expect(after.funded).toBeGreaterThan(before.funded);
  expect(after.rounds).toBeGreaterThan(before.rounds);
  expect(await metric(httpUrl, 'sender_monitor_resyncs_total', 'reason="gap"')).toBe(0);
}
