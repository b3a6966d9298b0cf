// Throughput and latency of the Recipient's payments over gRPC on loopback, against real
// Postgres, Redis and anvil, sent two ways: one ProcessPayment call per payment (any client), and
// RecipientClient's default, which folds the calls in flight into ProcessPayments calls. The
// Recipient runs in this process; the load generator (bench/recipient-load.ts) runs as a separate
// process. Also measures, in the same run, the ticket library's single-core ceiling
// (receiveTicketBatch on this thread with an in-memory nonce ledger) and prints each figure as a
// ratio of it, with a CPU profile of each row (where the time goes), and the service path alone:
// CPU per 1-ticket payment of the controller called in this process (no gRPC, no load generator
// sharing the cores). Prints figures; never passes or fails on time.
// Run: npm run bench:recipient   Options (environment): BENCH_TICKETS=1 one scenario only,
// BENCH_CLIENT=plain|coalescing one way only, BENCH_BATCH=n the coalescing client's largest batch,
// BENCH_BATCH_TICKETS=n the most tickets it puts in one batch,
// BENCH_PAYMENTS=n payments in the 1-ticket scenario (default 10,000), measured after a warm-up of
// BENCH_WARMUP_TICKETS=n tickets' worth of payments (default 3,000), BENCH_RATE=n payments/s offered,
// BENCH_IN_FLIGHT=n payments in flight (default 16 and 32 at 1 ticket, 16 at 10, 8 at 100),
// BENCH_VALIDATION_THREADS=n verify on n worker threads (RECIPIENT_POOL_MIN_TICKETS=n: payments
// of at least n tickets go to them, default 8), RECIPIENT_VERIFY_SLICE_MS=n the service's
// verification slice (0 = each payment at once), BENCH_RECIPIENT_REPLICAS=n that many Recipients
// sharing the Postgres database and Redis prefix (the others in their own processes; the load
// generator spreads its loops over them),
// BENCH_PROFILE_OUT=file the service's raw CPU profile, BENCH_HEAP_PROFILE_OUT=file its allocations
// (a sampling heap profile, collected objects included), BENCH_SERVICE_PROFILE_OUT=file a CPU profile
// of an extra service-path pass, BENCH_LOAD_PROFILE_DIR=dir the load generator's CPU profiles.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { ConsoleLogger } from '@nestjs/common';
import { Wallet, parseEther, toQuantity } from 'ethers';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { ticketBrokerAt } from '#app/chain';
import { bootstrapService } from '#app/common';
import {
  ANVIL_PRIVATE_KEYS,
  flushRedisPrefix,
  freePort,
  scratchDatabase,
  startAnvil,
  deployProtocol,
} from '#app/testing';
import {
  InMemoryNonceLedger,
  MAX_SENDER_NONCES,
  Rational,
  computeRecipientRand,
  createTicketBatch,
  hexToBytes,
  inThreadVerifier,
  receiveTicketBatch,
  recipientRandHash,
  selectCryptoBackend,
  winProbForEV,
  type RecoveryHelperCounts,
  type TicketBatch,
} from '#app/ticket';
import { RECIPIENT_GRPC, type ProcessPaymentRequest } from '#app/clients';
import { RecipientMetrics, type PaymentPhase } from '../apps/recipient/src/metrics/recipient.metrics.js';
import { RECIPIENT_REDIS } from '../apps/recipient/src/recipient-redis.js';
import { RecipientConfig } from '../apps/recipient/src/recipient.config.js';
import { RecipientModule } from '../apps/recipient/src/recipient.module.js';
import { RecipientController } from '../apps/recipient/src/grpc/recipient.controller.js';
import { TEST_POSTGRES_URL, TEST_REDIS_URL } from '../test/support/test-servers.js';
import { MEASURE_END, MEASURE_START, type LoadResult, type LoadSpec } from './recipient-load.js';
import { formatProfile, profileWhile } from './recipient-profile.js';
import { printBenchJson, type BenchFigure } from './bench-json.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';
import { signedPayment } from './signed-payment.js';

interface Scenario {
  ticketsPerPayment: number;
  payments: number;
  concurrency: number;
}

// 10,000 by default: the coalescing client carries 16–32 of them per call, and a p99 over the few
// hundred calls that leaves is still more than the slowest one or two.
const ONE_TICKET_PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 10_000);
// 1-ticket payments twice: 16 in flight, and 32, as an orchestrator with more streams offers them
// (the coalescing client then folds up to 32 into one call: fewer calls per payment).
const SCENARIOS: Scenario[] = [
  { ticketsPerPayment: 1, payments: ONE_TICKET_PAYMENTS, concurrency: 16 },
  { ticketsPerPayment: 1, payments: ONE_TICKET_PAYMENTS, concurrency: 32 },
  { ticketsPerPayment: 10, payments: 1_500, concurrency: 16 },
  { ticketsPerPayment: 100, payments: 200, concurrency: 8 },
];
const THREADS = Number(process.env.BENCH_VALIDATION_THREADS ?? '0');
const REPLICAS = Number(process.env.BENCH_RECIPIENT_REPLICAS ?? '1');
/** BENCH_RATE=300 offers that many payments per second instead of as many as are answered. */
const RATE = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : undefined;
/** BENCH_IN_FLIGHT=64 lets that many payments be in flight in every scenario. */
const IN_FLIGHT = process.env.BENCH_IN_FLIGHT ? Number(process.env.BENCH_IN_FLIGHT) : undefined;
/**
 * BENCH_WARMUP_TICKETS=n: each run first sends this many tickets' worth of the same payments, not
 * counted (default 3,000): the figures are the steady state, not the JIT compiling both processes'
 * code and connections opening (which took the first second or so of a cold 1-ticket run).
 */
const WARMUP_TICKETS = Number(process.env.BENCH_WARMUP_TICKETS ?? 3_000);
const warmUp = (s: Scenario) => Math.ceil(WARMUP_TICKETS / s.ticketsPerPayment);
/** BENCH_TICKETS=10 runs only the scenarios with that many tickets per payment. */
const ONLY = process.env.BENCH_TICKETS ? Number(process.env.BENCH_TICKETS) : undefined;

/** BENCH_BATCH=8 caps the coalescing client's batches at that many payments. */
const BATCH = process.env.BENCH_BATCH ? Number(process.env.BENCH_BATCH) : undefined;
/** BENCH_BATCH_TICKETS=64 caps the coalescing client's batches at that many tickets. */
const BATCH_TICKETS = process.env.BENCH_BATCH_TICKETS ? Number(process.env.BENCH_BATCH_TICKETS) : undefined;

/** How the load generator sends its payments. */
interface ClientMode {
  coalesce: boolean;
  /** Row label: what goes over the wire. */
  label: string;
}
const CLIENT_MODES: ClientMode[] = [
  { coalesce: false, label: 'ProcessPayment (1 RPC per payment)' },
  { coalesce: true, label: 'coalescing client (ProcessPayments)' },
].filter(
  (m) => !process.env.BENCH_CLIENT || process.env.BENCH_CLIENT === (m.coalesce ? 'coalescing' : 'plain'),
);

async function main(): Promise<void> {
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const redisPrefix = `ticketpay-bench:${runId}:`;
  const db = await scratchDatabase(TEST_POSTGRES_URL, 'bench_recipient');
  const anvil = await startAnvil();
  let app: Awaited<ReturnType<typeof bootstrapService>> | undefined;
  const replicas: ServiceProcess[] = [];
  try {
    if (!Number.isSafeInteger(REPLICAS) || REPLICAS < 1)
      throw new Error('BENCH_RECIPIENT_REPLICAS must be 1 or more');
    if (!Number.isSafeInteger(WARMUP_TICKETS) || WARMUP_TICKETS < 0)
      throw new Error('BENCH_WARMUP_TICKETS must be 0 or more');
    const owner = new Wallet(ANVIL_PRIVATE_KEYS[0], anvil.provider);
    const recipient = Wallet.createRandom().address.toLowerCase();
    const protocol = await deployProtocol(owner, { recipients: [recipient] });
    const sender = new Wallet(Wallet.createRandom().privateKey, anvil.provider);
    await anvil.provider.send('anvil_setBalance', [sender.address, toQuantity(parseEther('1000'))]);
    const broker = ticketBrokerAt(protocol.addresses.ticketBroker, sender);
    await (
      await broker.fundDepositAndReserve(parseEther('1'), parseEther('100'), { value: parseEther('101') })
    ).wait();

    const scenarios = SCENARIOS.filter((s) => ONLY === undefined || s.ticketsPerPayment === ONLY)
      .map((s) => (IN_FLIGHT ? { ...s, concurrency: IN_FLIGHT } : s))
      .filter(
        (s, i, all) =>
          all.findIndex(
            (o) => o.ticketsPerPayment === s.ticketsPerPayment && o.concurrency === s.concurrency,
          ) === i,
      );

    const grpcUrl = `127.0.0.1:${await freePort()}`;
    const serviceEnv: Record<string, string> = {
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: redisPrefix,
      ETH_RPC_URL: anvil.url,
      CONTROLLER_ADDRESS: protocol.controller,
      RECIPIENT_ADDRESS: recipient,
      RECIPIENT_SECRET_KEY: randomBytes(32).toString('hex'),
      RECIPIENT_VALIDATION_THREADS: String(THREADS),
      RECIPIENT_POOL_MIN_TICKETS: process.env.RECIPIENT_POOL_MIN_TICKETS ?? '8',
      ...(process.env.RECIPIENT_VERIFY_SLICE_MS
        ? { RECIPIENT_VERIFY_SLICE_MS: process.env.RECIPIENT_VERIFY_SLICE_MS }
        : {}),
      ...(process.env.RECIPIENT_RECOVERY_HELPER
        ? { RECIPIENT_RECOVERY_HELPER: process.env.RECIPIENT_RECOVERY_HELPER }
        : {}),
    };
    const config = RecipientConfig.fromEnv(serviceEnv);
    app = await bootstrapService({
      name: 'recipient',
      module: RecipientModule.forRoot(config),
      logger: new ConsoleLogger('bench', { logLevels: ['fatal'] }),
      http: { host: '127.0.0.1', port: 0 },
      grpc: { url: grpcUrl, ...RECIPIENT_GRPC },
      exitOnSignals: false,
    });
    // Further replicas after this one: it has migrated the database.
    const targets = [grpcUrl];
    for (let i = 1; i < REPLICAS; i++) {
      const [replicaGrpc, httpPort] = [`127.0.0.1:${await freePort()}`, await freePort()];
      replicas.push(
        await startServiceProcess(`recipient replica ${i}`, 'apps/recipient/src/main.ts', httpPort, {
          ...serviceEnv,
          RECIPIENT_GRPC_URL: replicaGrpc,
          RECIPIENT_HTTP_PORT: String(httpPort),
          LOG_LEVEL: 'warn',
        }),
      );
      targets.push(replicaGrpc);
    }
    const replicaCpu = () => replicas.reduce((total, r) => total + r.cpuSeconds(), 0);

    const rows: string[] = [];
    const breakdowns: string[] = [];
    const figures: BenchFigure[] = [];
    const io = countIo(app.get<Redis>(RECIPIENT_REDIS));
    const phases = app.get(RecipientMetrics).paymentPhaseSeconds;
    const batches = app.get(RecipientMetrics).batchPayments;
    // Whether the service runs a recovery helper is its own decision (setting and cores): ask it.
    const helperOn = app.get(RecipientMetrics).recoveryHelperCounts() !== undefined;
    const helperJobs = () => app!.get(RecipientMetrics).recoveryHelperCounts() ?? { helped: 0, redone: 0 };
    for (const s of scenarios) {
      // Measured right before its scenario, best of three: other load on the machine only ever slows it down.
      let ceiling = 0;
      for (let i = 0; i < 3; i++) ceiling = Math.max(ceiling, await libraryCeiling(s.ticketsPerPayment));
      for (const mode of CLIENT_MODES) {
        const spec: LoadSpec = {
          targets,
          senderKey: sender.privateKey,
          senderAddress: sender.address.toLowerCase(),
          noncesPerParams: 600,
          ...s,
          ratePerSecond: RATE,
          coalesce: mode.coalesce,
          maxBatch: BATCH,
          maxBatchTickets: BATCH_TICKETS,
        };
        // The service's CPU, phases, batches and I/O over the measured run only (not the warm-up).
        let cpu = process.cpuUsage();
        let replicaCpuBefore = 0;
        let ioBefore = { ...io };
        let used = cpu;
        let replicasUsed = 0;
        let helperBefore = helperJobs();
        let helperUsed = helperBefore;
        const result = await load({ ...spec, warmUpPayments: warmUp(s) }, (mark) => {
          if (mark === 'start') {
            helperBefore = helperJobs();
            phases.reset();
            batches.reset();
            ioBefore = { ...io };
            replicaCpuBefore = replicaCpu();
            cpu = process.cpuUsage();
          } else {
            helperUsed = helperJobs();
            used = process.cpuUsage(cpu);
            replicasUsed = replicaCpu() - replicaCpuBefore;
          }
        });
        const perPayment = (n: number) => (n / s.payments).toFixed(2);
        // What this process's replica counted, over the share of the payments it got.
        const perOwnPayment = (n: number) => (n / (s.payments / REPLICAS)).toFixed(2);
        // Every replica's CPU; phases, batches and I/O counts are this process's replica only.
        const serviceCpu = (used.user + used.system) / 1e6 + replicasUsed;
        const label = REPLICAS > 1 ? `${mode.label}, ${REPLICAS} replicas` : mode.label;
        breakdowns.push(
          `- ${label}${REPLICAS > 1 ? " (phases: this process's replica)" : ''}, ${await phaseBreakdown(s, phases, result, REPLICAS)}` +
            `\n  per payment: ${perPayment(serviceCpu * 1000)} ms of service CPU (all threads), ` +
            `${perOwnPayment(io.redis - ioBefore.redis)} Redis commands, ` +
            `${perOwnPayment(io.postgres - ioBefore.postgres)} Postgres queries` +
            (mode.coalesce ? `\n  ${await batchSizes(batches, REPLICAS > 1 ? undefined : s.payments)}` : '') +
            (helperOn
              ? `\n  ${helperShare(helperBefore, helperUsed, s.payments * s.ticketsPerPayment)}`
              : ''),
        );
        // A shorter pass under the sampling profiler, not counted in the figures: where the CPU goes.
        const profiledPayments = Math.ceil(s.payments / 3);
        const profile = await profileWhile(
          async () => {
            await load({ ...spec, payments: profiledPayments });
          },
          { cpu: process.env.BENCH_PROFILE_OUT, heap: process.env.BENCH_HEAP_PROFILE_OUT },
        );
        // Each replica serves about its share of the payments; only this process's is profiled.
        breakdowns.push(formatProfile(profile, Math.round(profiledPayments / REPLICAS)));
        if (result.accepted !== result.tickets) {
          throw new Error(`only ${result.accepted} of ${result.tickets} tickets were accepted`);
        }
        const rate = result.tickets / result.seconds;
        const sorted = [...result.latenciesMs].sort((a, b) => a - b);
        // Names as earlier runs recorded them; the second 1-ticket row also says its concurrency.
        const name = mode.coalesce ? 'Coalescing client (ProcessPayments)' : 'ProcessPayment';
        const at =
          `${s.ticketsPerPayment} tickets/payment${s.concurrency === 32 ? ', 32 in flight' : ''}` +
          (REPLICAS > 1 ? `, ${REPLICAS} replicas` : '');
        figures.push(
          { name: `${name}, ${at}`, value: rate, unit: 'tickets/s' },
          { name: `${name} p50 latency, ${at}`, value: percentile(sorted, 0.5), unit: 'ms' },
          { name: `${name} p99 latency, ${at}`, value: percentile(sorted, 0.99), unit: 'ms' },
        );
        rows.push(
          `| ${label} | ${s.ticketsPerPayment} | ${s.concurrency} | ${s.payments.toLocaleString('en-US')} | ` +
            `${fmt(rate)} | ${percentile(sorted, 0.5).toFixed(2)} | ${percentile(sorted, 0.99).toFixed(2)} | ` +
            `${fmt(ceiling)} | ${(rate / ceiling).toFixed(3)} | ` +
            `${pct(serviceCpu / result.seconds)} | ${pct(result.cpuSeconds / result.seconds)} |`,
        );
      }
    }

    // The service's own cost, apart from gRPC and from the load generator sharing the cores.
    let servicePath: ServicePathCost | undefined;
    if (ONLY === undefined || ONLY === 1) {
      servicePath = await servicePathCost(app.get(RecipientController), sender.privateKey);
      figures.push({
        name: 'Service path CPU per 1-ticket payment, no gRPC (ProcessPayments of 32 in process)',
        value: servicePath.cpuMicros,
        unit: 'µs',
      });
    }

    console.log(
      `Recipient payments over gRPC (loopback), ${selectCryptoBackend().name} secp256k1, ` +
        `${availableParallelism()} cores, validation threads: ${THREADS || 'none (main thread)'}, ` +
        `recovery helper thread: ${helperOn ? 'on' : 'off'}; ` +
        `Postgres, Redis and anvil real; load generator in its own process${
          REPLICAS > 1 ? `; ${REPLICAS} Recipient replicas (one here, the others in their own processes)` : ''
        }.\n`,
    );
    console.log(
      '| client | tickets/payment | in flight | payments | tickets/s | p50 ms | p99 ms | ' +
        'library ceiling tickets/s (1 core) | ratio | service CPU | load generator CPU |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const row of rows) console.log(row);
    console.log('\nWhere the time of a payment goes (server-side mean per payment; see PaymentPhase):');
    for (const b of breakdowns) console.log(b);
    if (servicePath) {
      console.log(
        `- service path alone (no gRPC, no load generator: ProcessPayments of ${SERVICE_PATH_BATCH} one-ticket ` +
          `payments called in this process, best of ${SERVICE_PATH_PASSES} passes of ` +
          `${SERVICE_PATH_PAYMENTS.toLocaleString('en-US')}): ${servicePath.cpuMicros.toFixed(0)} µs of CPU per payment, ` +
          `${fmt(servicePath.paymentsPerSecond)} payments/s ${helperOn ? 'on the main thread and the recovery helper' : 'on one core'}`,
      );
    }
    printBenchJson('recipient', figures);
    console.log(
      '\nlibrary ceiling: receiveTicketBatch on one thread (HMAC, hashes, signature recovery, lottery) with an ' +
        'in-memory nonce ledger, same batch size. Service figures add gRPC decoding, the Redis params/nonce ' +
        'script, the Redis balance update and the SenderMonitor read per payment. Latency is per payment, ' +
        'as its caller waited for it (with the coalescing client: the whole ProcessPayments call it travelled in). ' +
        `Each run is measured after a warm-up of ${WARMUP_TICKETS.toLocaleString('en-US')} tickets' worth of the same payments, not counted ` +
        '(service CPU, phases and I/O counts too).',
    );
  } finally {
    for (const replica of replicas) await replica.stop();
    await app?.close();
    await anvil.stop();
    await db.drop();
    await flushRedisPrefix(TEST_REDIS_URL, redisPrefix);
  }
}

/**
 * Runs the load generator in its own process and returns its results; `onMeasure` is called when
 * its measured run starts and when it ends (after its warm-up, MEASURE_START and MEASURE_END).
 */
async function load(spec: LoadSpec, onMeasure?: (mark: 'start' | 'end') => void): Promise<LoadResult> {
  const script = new URL('./recipient-load.ts', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    [
      // BENCH_LOAD_PROFILE_DIR=dir keeps a CPU profile of each load generator run (its own cost).
      ...(process.env.BENCH_LOAD_PROFILE_DIR
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_LOAD_PROFILE_DIR]
        : []),
      '--conditions=ticketpay-source',
      '--import',
      '@swc-node/register/esm-register',
      script,
      JSON.stringify(spec),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let last = '';
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (line === MEASURE_START) onMeasure?.('start');
    else if (line === MEASURE_END) onMeasure?.('end');
    else last = line;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`load generator exited with ${code}: ${stderr.trim()}`);
  return JSON.parse(last) as LoadResult;
}

/** Counts the commands sent on the Recipient's Redis connection and the queries of every pg client. */
function countIo(redis: Redis): { redis: number; postgres: number } {
  const counts = { redis: 0, postgres: 0 };
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    counts.redis++;
    return send(...args);
  };
  // eslint-disable-next-line @typescript-eslint/unbound-method -- rebound below
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    counts.postgres++;
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;
  return counts;
}

const PHASES: readonly PaymentPhase[] = [
  'rate',
  'verify',
  'checks',
  'store',
  'rider',
  'record',
  'settle',
  'credit',
];

/** Mean wall time per payment of each step, and what the client saw on top of it (gRPC, Nest, queueing). */
async function phaseBreakdown(
  s: Scenario,
  histogram: RecipientMetrics['paymentPhaseSeconds'],
  result: LoadResult,
  replicas: number,
): Promise<string> {
  const { values } = await histogram.get();
  const sumOf = (phase: string) =>
    values.find((v) => v.metricName?.endsWith('_sum') && v.labels.phase === phase)?.value ?? 0;
  // This process's replica got about 1/replicas of the payments.
  const meanMs = (phase: string) => (sumOf(phase) / (s.payments / replicas)) * 1000;
  const server = PHASES.reduce((total, p) => total + meanMs(p), 0);
  const client = result.latenciesMs.reduce((a, b) => a + b, 0) / result.latenciesMs.length;
  const parts = PHASES.map((p) => `${p} ${meanMs(p).toFixed(3)}`).join(', ');
  return (
    `${s.ticketsPerPayment} tickets/payment, ${s.concurrency} in flight, ms: ${parts}; service total ${server.toFixed(3)}; ` +
    `client latency ${client.toFixed(3)} (gRPC, decoding and waiting for the event loop: ` +
    `${(client - server).toFixed(3)})`
  );
}

/** What the recovery helper thread took of a run's signature recoveries. */
function helperShare(before: RecoveryHelperCounts, after: RecoveryHelperCounts, recoveries: number): string {
  const helped = after.helped - before.helped;
  const redone = after.redone - before.redone;
  return (
    `recovery helper thread: ran ${helped.toLocaleString('en-US')} of the ${recoveries.toLocaleString('en-US')} ` +
    `signature recoveries (${((100 * helped) / recoveries).toFixed(0)}%); ${redone} it had not finished in time were run again on the main thread`
  );
}

/** How many payments the ProcessPayments calls of a run carried; `payments` unknown (undefined) with replicas. */
async function batchSizes(
  histogram: RecipientMetrics['batchPayments'],
  payments: number | undefined,
): Promise<string> {
  const { values } = await histogram.get();
  const calls = values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  const batched = values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  const buckets = values
    .filter((v) => v.metricName?.endsWith('_bucket'))
    .map((v) => [String(v.labels.le), v.value] as const);
  const shares = buckets
    .map(([le, cumulative], i) => [le, cumulative - (i > 0 ? buckets[i - 1][1] : 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([le, n]) => `≤${le}: ${n}`)
    .join(', ');
  const sizes = `(mean ${(batched / Math.max(calls, 1)).toFixed(1)}; calls by size ${shares || 'none'})`;
  return payments === undefined
    ? `batches (this replica): ${calls} ProcessPayments calls carried ${batched} payments ${sizes}`
    : `batches: ${calls} ProcessPayments calls carried ${batched} of ${payments} payments ${sizes}; ` +
        'the rest went alone as ProcessPayment';
}

/** Tickets per second receiveTicketBatch validates on this thread for batches of `size`. */
async function libraryCeiling(size: number): Promise<number> {
  const secret = randomBytes(32);
  const key = hexToBytes(Wallet.createRandom().privateKey, 'key', 32);
  const recipient = hexToBytes(Wallet.createRandom().address.toLowerCase(), 'recipient', 20);
  const price = Rational.of(1200n);
  const expirationParams = { creationRound: 10n, creationRoundBlockHash: randomBytes(32) };
  const faceValue = 35_000_000_000_000_000n;
  const winProb = winProbForEV(8_000_000_000n, faceValue);
  const sender = selectCryptoBackend().addressOf(key);
  const batches: TicketBatch[] = [];
  const total = Math.max(4_000, size * 40);
  for (let done = 0; done < total; done += size) {
    const seed = BigInt(`0x${randomBytes(32).toString('hex')}`);
    const rand = computeRecipientRand(secret, {
      seed,
      sender,
      faceValue,
      winProb,
      expirationBlock: 1000n,
      pricePerPixel: price,
      ...expirationParams,
    });
    batches.push(
      createTicketBatch({
        params: {
          recipient,
          faceValue,
          winProb,
          recipientRandHash: recipientRandHash(rand),
          seed,
          expirationBlock: 1000n,
        },
        expirationParams,
        pricePerPixel: price,
        nonces: Array.from({ length: size }, (_, i) => i + 1),
        privateKey: key,
      }),
    );
  }
  const ctx = {
    recipient,
    secret,
    lastSeenL1Block: 900n,
    lastInitializedRound: 10n,
    senderInfo: { withdrawRound: 0n },
  };
  const options = { ledger: new InMemoryNonceLedger(), verify: inThreadVerifier() };
  // Warm-up, then the timed pass over fresh params.
  for (const b of batches.slice(0, 10))
    await receiveTicketBatch(b, ctx, { ...options, ledger: new InMemoryNonceLedger() });
  const started = performance.now();
  let accepted = 0;
  for (const b of batches) {
    for (const t of await receiveTicketBatch(b, ctx, options)) if (!t.error) accepted++;
  }
  const seconds = (performance.now() - started) / 1000;
  if (accepted !== batches.length * size) throw new Error('ceiling batches did not validate');
  return accepted / seconds;
}

const SERVICE_PATH_BATCH = 32;
const SERVICE_PATH_PAYMENTS = 6_000;
const SERVICE_PATH_PASSES = 3;

interface ServicePathCost {
  /** CPU of this process per payment, µs (best pass). */
  cpuMicros: number;
  /** Payments per second of wall time in that pass. */
  paymentsPerSecond: number;
}

/**
 * CPU per 1-ticket payment of the Recipient's controller called in this process, in
 * ProcessPayments of SERVICE_PATH_BATCH: validation, Redis and metrics as over gRPC, without
 * the transport and without the load generator on the other core. Best of a few passes: other
 * load on the machine only ever adds to it.
 */
async function servicePathCost(controller: RecipientController, senderKey: string): Promise<ServicePathCost> {
  const key = hexToBytes(senderKey, 'senderKey', 32);
  const sender = selectCryptoBackend().addressOf(key);
  const price = { pricePerUnit: '1200', pixelsPerUnit: '1' };
  const payments = async (count: number): Promise<ProcessPaymentRequest[]> => {
    const requests: ProcessPaymentRequest[] = [];
    let issued = await controller.getTicketParams({ sender, price });
    let nonce = 1;
    for (let i = 0; i < count; i++) {
      if (nonce > MAX_SENDER_NONCES) {
        issued = await controller.getTicketParams({ sender, price });
        nonce = 1;
      }
      const payment = signedPayment(issued, [nonce++], key);
      requests.push({ form: 'payment', payment, jobId: `in-process-${i % SERVICE_PATH_BATCH}` });
    }
    return requests;
  };
  const pass = async (requests: ProcessPaymentRequest[]) => {
    for (let i = 0; i < requests.length; i += SERVICE_PATH_BATCH) {
      const { results } = await controller.processPayments({
        payments: requests.slice(i, i + SERVICE_PATH_BATCH),
      });
      if (results.some((r) => r.response?.acceptedCount !== 1))
        throw new Error('a payment of the service path pass was not accepted');
    }
  };
  await pass(await payments(1_000)); // warm-up
  if (process.env.BENCH_SERVICE_PROFILE_OUT) {
    // Not one of the measured passes: the profiler slows it down.
    const requests = await payments(SERVICE_PATH_PAYMENTS);
    await profileWhile(() => pass(requests), { cpu: process.env.BENCH_SERVICE_PROFILE_OUT });
  }
  let best: ServicePathCost = { cpuMicros: Infinity, paymentsPerSecond: 0 };
  for (let i = 0; i < SERVICE_PATH_PASSES; i++) {
    const requests = await payments(SERVICE_PATH_PAYMENTS);
    const cpu = process.cpuUsage();
    const started = performance.now();
    await pass(requests);
    const used = process.cpuUsage(cpu);
    const cpuMicros = (used.user + used.system) / requests.length;
    if (cpuMicros < best.cpuMicros)
      best = { cpuMicros, paymentsPerSecond: requests.length / ((performance.now() - started) / 1000) };
  }
  return best;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** CPU time over wall time, as a percentage of one core. */
function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
