// Soak: the Recipient (in this process) under a steady rate of payments over gRPC on loopback,
// against real Postgres, Redis and anvil, for a bounded time. Every window prints heap after a
// full GC, RSS, p50/p99 latency; at the end, every winning ticket the replies reported must be in
// Postgres with its redemption job queued (none lost). Prints figures; never fails on speed, only
// on a lost ticket or a failed payment.
// Run: npm run bench:soak   (SOAK_SECONDS=180, SOAK_RATE=40 payments/s, SOAK_WINDOW_SECONDS=15,
// SOAK_HEAP_SNAPSHOT_DIR to write a heap snapshot per window)
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConsoleLogger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Wallet, parseEther, toQuantity } from 'ethers';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ticketBrokerAt } from '#app/chain';
import { bootstrapService } from '#app/common';
import { bullPrefix, QueueName } from '#app/queue';
import {
  ANVIL_PRIVATE_KEYS,
  flushRedisPrefix,
  freePort,
  scratchDatabase,
  startAnvil,
  deployProtocol,
} from '#app/testing';
import { bytesToHex, hexToBytes } from '#app/ticket';
import {
  RecipientCallError,
  RecipientClient,
  type GetTicketParamsResponse,
  RECIPIENT_GRPC,
} from '#app/clients';
import { RecipientConfig } from '../apps/recipient/src/recipient.config.js';
import { RecipientModule } from '../apps/recipient/src/recipient.module.js';
import { TEST_POSTGRES_URL, TEST_REDIS_URL } from '../test/support/test-servers.js';
import { signedPayment } from './signed-payment.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? '180');
const RATE = Number(process.env.SOAK_RATE ?? '40');
const WINDOW_SECONDS = Number(process.env.SOAK_WINDOW_SECONDS ?? '15');
/** When set, a heap snapshot is written there after each window's GC. */
const SNAPSHOT_DIR = process.env.SOAK_HEAP_SNAPSHOT_DIR;
/** New params after this many payments, as a broadcaster refreshes them. */
const PAYMENTS_PER_PARAMS = 200;
const PRICE = { pricePerUnit: '1200', pixelsPerUnit: '1' };

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Window {
  payments: number;
  latencies: number[];
}

async function main(): Promise<void> {
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const redisPrefix = `ticketpay-soak:${runId}:`;
  const scratch = await scratchDatabase(TEST_POSTGRES_URL, 'soak');
  const anvil = await startAnvil();
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  let app: Awaited<ReturnType<typeof bootstrapService>> | undefined;
  let client: RecipientClient | undefined;
  try {
    const owner = new Wallet(ANVIL_PRIVATE_KEYS[0], anvil.provider);
    const recipient = Wallet.createRandom().address.toLowerCase();
    const protocol = await deployProtocol(owner, { recipients: [recipient] });
    const sender = new Wallet(Wallet.createRandom().privateKey, anvil.provider);
    await anvil.provider.send('anvil_setBalance', [sender.address, toQuantity(parseEther('1000'))]);
    await (
      await ticketBrokerAt(protocol.addresses.ticketBroker, sender).fundDepositAndReserve(
        parseEther('10'),
        parseEther('100'),
        { value: parseEther('110') },
      )
    ).wait();
    const grpcUrl = `127.0.0.1:${await freePort()}`;
    app = await bootstrapService({
      name: 'recipient',
      module: RecipientModule.forRoot(
        RecipientConfig.fromEnv({
          DATABASE_URL: scratch.url,
          REDIS_URL: TEST_REDIS_URL,
          REDIS_PREFIX: redisPrefix,
          ETH_RPC_URL: anvil.url,
          CONTROLLER_ADDRESS: protocol.controller,
          RECIPIENT_ADDRESS: recipient,
          RECIPIENT_SECRET_KEY: randomBytes(32).toString('hex'),
          // One ticket in ten wins: winners flow to Postgres and the queue all along.
          RECIPIENT_TICKET_EV: '1000000000000',
          RECIPIENT_MAX_FACE_VALUE: '10000000000000',
          RECIPIENT_REDEEM_GAS: '100',
          RECIPIENT_MAX_SENDER_NONCES: String(PAYMENTS_PER_PARAMS + 10),
          // No block is mined during a soak (anvil mines on txs, none are sent): quiet on purpose.
          RECIPIENT_MAX_HEAD_STALL_SECONDS: '0',
        }),
      ),
      logger: new ConsoleLogger('soak', { logLevels: ['fatal'] }),
      http: { host: '127.0.0.1', port: 0 },
      grpc: { url: grpcUrl, ...RECIPIENT_GRPC },
      exitOnSignals: false,
    });
    client = new RecipientClient(grpcUrl);
    const key = hexToBytes(sender.privateKey, 'key', 32);
    const senderBytes = hexToBytes(sender.address.toLowerCase(), 'sender', 20);

    let issued: GetTicketParamsResponse | undefined;
    let nonce = 0;
    const winners = new Set<string>();
    /** Failed payments by reason: the error code, or the ticket's refusal code. */
    const failures = new Map<string, number>();
    const fail = (why: string) => failures.set(why, (failures.get(why) ?? 0) + 1);
    let window: Window = { payments: 0, latencies: [] };
    const all: number[] = [];
    const rows: string[] = [];
    const heapSamples: number[] = [];

    const pay = async (): Promise<void> => {
      if (!issued || nonce >= PAYMENTS_PER_PARAMS) {
        issued = await client!.getTicketParams({ sender: senderBytes, price: PRICE });
        nonce = 0;
      }
      const payment = signedPayment(issued, [++nonce], key);
      const started = performance.now();
      try {
        const res = await client!.processPayment({ payment, jobId: 'soak' });
        const ms = performance.now() - started;
        window.latencies.push(ms);
        all.push(ms);
        window.payments++;
        if (res.acceptedCount !== 1) fail(`refused ${res.tickets[0]?.errorCode ?? '?'}`);
        for (const t of res.tickets) if (t.won) winners.add(bytesToHex(t.ticketHash));
      } catch (err) {
        fail(err instanceof RecipientCallError ? err.errorCode : String(err));
      }
    };

    const sample = (elapsed: number) => {
      gc();
      const mem = process.memoryUsage();
      heapSamples.push(mem.heapUsed);
      // For hunting a leak: diff two snapshots (e.g. Chrome DevTools' comparison view).
      if (SNAPSHOT_DIR) writeHeapSnapshot(join(SNAPSHOT_DIR, `soak-${elapsed.toFixed(0)}s.heapsnapshot`));
      const sorted = [...window.latencies].sort((a, b) => a - b);
      rows.push(
        `| ${elapsed.toFixed(0)} | ${window.payments} | ${(window.payments / WINDOW_SECONDS).toFixed(1)} | ` +
          `${pct(sorted, 0.5).toFixed(2)} | ${pct(sorted, 0.99).toFixed(2)} | ${mb(mem.heapUsed)} | ${mb(mem.rss)} |`,
      );
      console.log(rows.at(-1));
      window = { payments: 0, latencies: [] };
    };

    console.log(`soak: ${SECONDS} s at ${RATE} payments/s (1 ticket each), windows of ${WINDOW_SECONDS} s`);
    console.log('| t (s) | payments | /s | p50 ms | p99 ms | heap MB (after GC) | rss MB |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    const t0 = performance.now();
    let nextWindow = WINDOW_SECONDS * 1000;
    const inFlight = new Set<Promise<void>>();
    // Open loop: payments start on a fixed schedule whatever the latency, as real traffic does.
    for (let i = 0; ; i++) {
      const due = (i * 1000) / RATE;
      const now = performance.now() - t0;
      if (due >= SECONDS * 1000) break;
      if (due > now) await new Promise((r) => setTimeout(r, due - now));
      const p = pay().finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (performance.now() - t0 >= nextWindow) {
        sample(nextWindow / 1000);
        nextWindow += WINDOW_SECONDS * 1000;
      }
    }
    await Promise.all(inFlight);
    // The schedule ends on a window boundary before the loop could sample it.
    if (nextWindow <= SECONDS * 1000) sample(nextWindow / 1000);

    // No winner lost: each one the replies reported is in Postgres and has its redemption job.
    const db = new pg.Client({ connectionString: scratch.url });
    await db.connect();
    const stored = new Set(
      (
        await db.query<{ ticket_hash: string }>(
          'SELECT ticket_hash FROM winning_ticket WHERE recipient = $1',
          [recipient],
        )
      ).rows.map((r) => r.ticket_hash),
    );
    await db.end();
    const queue = new Queue(QueueName.TICKET_REDEMPTION, {
      connection: redis,
      prefix: bullPrefix(redisPrefix),
    });
    // Stored winners include those whose reply the client gave up on: they must be queued too.
    let queued = 0;
    for (const hash of stored) if (await queue.getJob(hash)) queued++;
    await queue.close();
    const missing = [...winners].filter((h) => !stored.has(h));
    const failed = [...failures.values()].reduce((a, b) => a + b, 0);
    const sorted = [...all].sort((a, b) => a - b);
    // The first window warms up (JIT, pools, caches): growth is measured from the second one on,
    // or from the only one when the run is that short.
    const baseIndex = Math.min(1, heapSamples.length - 1);
    const base = heapSamples[baseIndex] ?? 0;
    const last = heapSamples.at(-1) ?? 0;
    const growth = last - base;
    console.log('');
    console.log(
      `payments ${all.length}, failed ${failed}, p50 ${pct(sorted, 0.5).toFixed(2)} ms, ` +
        `p99 ${pct(sorted, 0.99).toFixed(2)} ms, max ${sorted.at(-1)?.toFixed(2)} ms`,
    );
    if (failed > 0) console.log(`failed payments by reason: ${JSON.stringify(Object.fromEntries(failures))}`);
    console.log(
      `winners reported ${winners.size}, stored ${stored.size} (all replies lost to a failed call included), ` +
        `queued ${queued}, reported but not stored ${missing.length}`,
    );
    console.log(
      `heap after GC: window ${baseIndex + 1} ${mb(base)} MB → window ${heapSamples.length} ${mb(last)} MB ` +
        `(${growth >= 0 ? '+' : ''}${mb(growth)} MB)`,
    );
    if (missing.length > 0 || queued !== stored.size || failed > 0) {
      throw new Error('a ticket was lost or a payment failed');
    }
  } finally {
    client?.close();
    await app?.close();
    redis.disconnect();
    await anvil.stop();
    await scratch.drop();
    await flushRedisPrefix(TEST_REDIS_URL, redisPrefix);
  }
}

function pct(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
