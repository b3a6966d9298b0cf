/**
 * End-to-end benchmark: `npm run bench` (or run alone with the bench command line). Prints
 * figures, never passes or fails on time.
 *
 * Starts the local stack as `npm start` does (embedded Postgres, redis-server, anvil with 1 s
 * blocks and 20-block rounds, the four services as processes) in a temporary state directory,
 * without the demo broadcaster, and drives the demo flow at full speed from here, LOOPS payment
 * loops in flight, in two variants one after the other:
 *
 * - realistic broadcaster: as go-livepeer does, a loop keeps its params and Sender session across
 *   payments (CreateTicketBatch → ProcessPayment, the signer's `Livepeer-Payment` header passed on
 *   as is) and fetches fresh ones only when the Sender asks
 *   for it (nonce 500 of the recipient's 600-nonce cap, PROTOCOL §15), when the params are about
 *   to expire, or after an error;
 * - new params per payment: GetTicketParams → StartSession → CreateTicketBatch → ProcessPayment →
 *   EndSession for every payment (the previous benchmark's loop).
 *
 * Before them it measures the single-core ticket validation ceiling of the library with the code
 * of `npm run bench:ticket`, in the same process and run, with the stack up (idle).
 *
 * After each variant it waits until every winner of that variant is final and reports how many
 * were redeemed and expired, winners stored per second of the run (arrived) and redeemed per
 * second (from the first winner stored to the last redemption), redemption txs per block (mined
 * redemption txs ÷ blocks holding at least one), the gas a redeemed ticket used and the chain's
 * ceiling it implies (1 s blocks full of such tickets: winners arriving faster expire whatever the
 * Redeemer does), the most txs of the signer in flight at once, the redemption txs that reverted
 * (and the tickets they held, retried), how many blocks each mined redemption tx took from the block it was sent
 * at (and the Redeemer's round-end margin at the end), and the time from a winning ticket stored by the
 * Recipient to its redemption recorded by the Redeemer, and the Redeemer's CPU time (its
 * process_cpu_seconds_total from the variant's start until its winners are final) per winner,
 * next to anvil's and Postgres' over the same span (from /proc). That time includes the protocol's wait for
 * the params to expire (5 blocks of the demo config) and the Recipient's reveal margin (11 blocks
 * for the demo's 10 s head stall bound) before recipientRand may be revealed, and 1 confirmation.
 *
 * The demo's economics make 1 ticket in 10 a winner, so that the Redeemer is loaded hard; the
 * header prints the economics of the run. The user's environment overrides the demo's tuning, so
 * e.g. `RECIPIENT_TICKET_EV=10000000000000` (1/1000 at the demo's 0.01 ETH face value) measures
 * the payment path at a rarer, more production-like win rate. The dev chain's capacity bounds what
 * can be redeemed: its 1 s blocks hold anvil's 30M gas unless BENCH_E2E_BLOCK_GAS_LIMIT says more,
 * and the header prints it.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, parseEther, Wallet } from 'ethers';
import pg from 'pg';
import { ticketBrokerAt } from '#app/chain';
import { ticketParamsCodec } from '#app/proto';
import { MAX_WIN_PROB } from '#app/ticket';
import { ANVIL_PRIVATE_KEYS, buildServices, startDevStack } from '#app/testing';
import { RecipientClient, type GetTicketParamsResponse } from '#app/clients';
import { SenderApi } from '../scripts/dev/demo-broadcaster.js';
import { embeddedDatabaseUrl } from '../scripts/dev/embedded-postgres.js';
import { printBenchJson, type BenchFigure } from './bench-json.js';
import { ownCpuSeconds, procStatFields, reapedCpuSeconds } from './proc-stat.js';
import { singleCoreValidationCeiling } from './validation-ceiling.js';

const WARMUP_MS = 3_000;
const RUN_MS = Number(process.env.BENCH_E2E_SECONDS ?? '20') * 1_000;
/** Payment loops in flight (a broadcaster's concurrent streams); BENCH_E2E_LOOPS overrides. */
const LOOPS = Number(process.env.BENCH_E2E_LOOPS ?? '16');
/**
 * BENCH_E2E_BLOCK_GAS_LIMIT=90000000 gives the dev chain's 1 s blocks that much gas (anvil's
 * default 30M): at the demo's 1 in 10, a fast machine makes winners faster than 30M a second holds.
 */
const BLOCK_GAS_LIMIT = process.env.BENCH_E2E_BLOCK_GAS_LIMIT;
/** BENCH_E2E_VARIANTS=realistic runs only that variant (comma-separated names). */
const ONLY_VARIANTS = process.env.BENCH_E2E_VARIANTS?.split(',');
const BATCH_SIZE = 10;
const REDEEM_WAIT_MS = 180_000;
/** Fresh params this many blocks before the current ones expire (a loaded payment can outlast a 1 s block). */
const EXPIRY_MARGIN_BLOCKS = 2n;

type Variant = 'realistic' | 'per-payment';
const VARIANTS: Record<Variant, string> = {
  realistic: 'realistic broadcaster (params reused)',
  'per-payment': 'new params per payment',
};

async function main(): Promise<void> {
  buildServices();
  const stack = startDevStack('bench-e2e', {
    TICKETPAY_DEMO: 'false',
    ...(BLOCK_GAS_LIMIT ? { TICKETPAY_DEV_GAS_LIMIT: BLOCK_GAS_LIMIT } : {}),
  });
  const { stateDir, proc } = stack;
  let db: pg.Client | undefined;
  let provider: JsonRpcProvider | undefined;
  try {
    const started = Date.now();
    while (!stack.output().includes('press Ctrl-C to stop')) {
      if (proc.exitCode !== null) throw new Error(`the stack exited:\n${stack.output().slice(-3000)}`);
      if (Date.now() - started > 180_000) throw new Error('the stack did not start within 180 s');
      await sleep(200);
    }
    const find = (re: RegExp) => {
      const m = re.exec(stack.output());
      if (!m) throw new Error(`not in the stack's output: ${re}`);
      return m[1];
    };
    const databaseUrl = embeddedDatabaseUrl(find(/embedded Postgres on (\S+)/));
    const rpcUrl = find(/dev chain (http:\/\/\S+),/);
    const senderGrpc = find(/sender\s+http:\S+\s+gRPC (\S+)/);
    const recipientGrpc = find(/recipient\s+http:\S+\s+gRPC (\S+)/);
    const redeemerHttp = find(/redeemer\s+(http:\S+)\/health/);
    const recipientHttp = find(/recipient\s+(http:\S+)\/health/);
    const senderHttp = find(/sender\s+(http:\S+)\/health/);
    const token = readFileSync(join(stateDir, 'demo', 'api-token'), 'utf8').trim();
    const deployment = JSON.parse(readFileSync(join(stateDir, 'deployment.json'), 'utf8')) as {
      addresses: { ticketBroker: string };
    };

    // Room for the winners of two full-speed runs: the demo funding covers 1000 of them.
    provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
    const senderWallet = new Wallet(ANVIL_PRIVATE_KEYS[2], provider);
    const broker = ticketBrokerAt(deployment.addresses.ticketBroker, senderWallet);
    await (
      await broker.fundDepositAndReserve(parseEther('2000'), parseEther('2000'), {
        value: parseEther('4000'),
      })
    ).wait();
    // Let the services' chain views see the new deposit.
    await sleep(3_000);

    const ceiling = await singleCoreValidationCeiling(5);

    let head = BigInt(await provider.getBlockNumber());
    const chain = provider;
    const headTimer = setInterval(() => {
      chain.getBlockNumber().then(
        (n) => (head = BigInt(n)),
        () => undefined,
      );
    }, 200);

    const sender = new SenderApi(senderGrpc, token);
    const recipient = new RecipientClient(recipientGrpc);
    const account = (await sender.call<{ senders: { address: Buffer }[] }>('Senders', {})).senders[0].address;
    const price = { pricePerUnit: '1000', pixelsPerUnit: '1' };

    interface Session {
      id: string;
      expirationBlock: bigint;
    }
    /** The Recipient's ticket economics, from the first params it issued (for the report). */
    let economics: Economics | undefined;
    const startSession = async (): Promise<Session> => {
      const params: GetTicketParamsResponse = await calls.time('GetTicketParams', () =>
        recipient.getTicketParams({ sender: account, price }),
      );
      const session = await calls.time('StartSession', () =>
        sender.call<{ sessionId: string }>('StartSession', {
          sender: account,
          ticketParams: params.ticketParams,
          expectedPrice: params.priceInfo,
        }),
      );
      const { expirationBlock, faceValue, winProb } = ticketParamsCodec.fromMessage(params.ticketParams);
      economics ??= { faceValue, winProb };
      return { id: session.sessionId, expirationBlock };
    };
    const endSession = (session: Session) =>
      calls
        .time('EndSession', () => sender.call('EndSession', { sessionId: session.id }))
        .catch(() => undefined);
    /** One payment on `session`; returns the accepted count and whether the Sender asks for fresh params. */
    const calls = new CallTimes();
    let payments = 0;
    const pay = async (session: Session): Promise<{ accepted: number; refresh: boolean }> => {
      const batch = await calls.time('CreateTicketBatch', () =>
        sender.call<{ paymentHeader: string; refreshParams: boolean }>('CreateTicketBatch', {
          sessionId: session.id,
          size: BATCH_SIZE,
        }),
      );
      const result = await calls.time('ProcessPayment', () =>
        // As go-livepeer's broadcaster: the signer's header goes to the orchestrator undecoded.
        recipient.processPayment({ paymentHeader: batch.paymentHeader, jobId: 'bench' }),
      );
      payments++;
      return { accepted: result.acceptedCount, refresh: batch.refreshParams };
    };

    let errors = 0;
    let sessions = 0;
    const errorKinds = new Map<string, number>();
    const loop = async (variant: Variant, until: number): Promise<number> => {
      let accepted = 0;
      let session: Session | undefined;
      while (Date.now() < until) {
        try {
          if (!session || head + EXPIRY_MARGIN_BLOCKS >= session.expirationBlock) {
            if (session) void endSession(session);
            session = await startSession();
            sessions++;
          }
          const paid = await pay(session);
          accepted += paid.accepted;
          if (variant === 'per-payment' || paid.refresh) {
            await endSession(session);
            session = undefined;
          }
        } catch (err) {
          errors++;
          const what = (err as Error).message.slice(0, 100);
          errorKinds.set(what, (errorKinds.get(what) ?? 0) + 1);
          if (session) void endSession(session);
          session = undefined;
        }
      }
      if (session) await endSession(session);
      return accepted;
    };
    const drive = async (variant: Variant, ms: number): Promise<number> => {
      const until = Date.now() + ms;
      const counts = await Promise.all(Array.from({ length: LOOPS }, () => loop(variant, until)));
      return counts.reduce((a, b) => a + b, 0);
    };

    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const results: VariantResult[] = [];
    for (const variant of (['realistic', 'per-payment'] as const).filter(
      (v) => ONLY_VARIANTS?.includes(v) ?? true,
    )) {
      await drive(variant, WARMUP_MS);
      await waitForWinners(db, new Date(0));
      errors = 0;
      sessions = 0;
      errorKinds.clear();
      calls.clear();
      payments = 0;
      const paying0 = await payingCpu(recipientHttp, senderHttp);
      const since = await dbNow(db);
      const cpu0 = await processCpuSeconds(redeemerHttp);
      const waits0 = await redeemerWaits(redeemerHttp);
      const stackCpu0 = stackCpuSeconds(stateDir, proc.pid);
      const pg0 = await postgresCounts(db);
      const t0 = performance.now();
      const accepted = await drive(variant, RUN_MS);
      const seconds = (performance.now() - t0) / 1_000;
      const paying = payingCpuSince(paying0, await payingCpu(recipientHttp, senderHttp), payments);
      const until = await dbNow(db);
      await waitForWinners(db, since);
      const redeemerCpu = (await processCpuSeconds(redeemerHttp)) - cpu0;
      const waits = await redeemerWaits(redeemerHttp);
      const stackCpu = stackCpuSeconds(stateDir, proc.pid);
      // Backends report their counts at most once a second.
      await sleep(1_500);
      const pg1 = await postgresCounts(db);
      const figures = await redemptionFigures(db, since, until);
      const perWinner = (seconds: number) =>
        figures.winners > 0 ? (1_000 * seconds) / figures.winners : Number.NaN;
      results.push({
        variant,
        rate: accepted / seconds,
        winnersArrived: figures.winners / seconds,
        errors,
        errorKinds: [...errorKinds],
        calls: calls.summary(),
        sessions,
        paying,
        ...figures,
        redeemerCpuMsPerWinner: perWinner(redeemerCpu),
        anvilCpuMsPerWinner: perWinner(stackCpu.anvil - stackCpu0.anvil),
        postgresCpuMsPerWinner: perWinner(stackCpu.postgres - stackCpu0.postgres),
        redisCpuMsPerWinner: perWinner(stackCpu.redis - stackCpu0.redis),
        waitsPerWinner: [...waits]
          .map(([code, n]): [string, number] => [code, (n - (waits0.get(code) ?? 0)) / figures.winners])
          .filter(([, n]) => n > 0),
        postgresPerWinner: postgresCountsPerWinner(pg0, pg1, figures.winners),
        roundEndMargin: await redeemerGauge(redeemerHttp, 'redeemer_round_end_margin_blocks'),
      });
    }
    clearInterval(headTimer);
    sender.close();
    recipient.close();
    const { gasLimit } = (await provider.getBlock('latest'))!;
    report(ceiling, results, economics, gasLimit);
  } finally {
    provider?.destroy();
    await db?.end().catch(() => undefined);
    if (proc.exitCode === null) proc.kill('SIGINT');
    const ended = await Promise.race([stack.exited, sleep(60_000).then(() => 'timeout' as const)]);
    if (ended === 'timeout') proc.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  }
}

interface RedemptionFigures {
  winners: number;
  redeemed: number;
  expired: number;
  /** Winners per final status and reason, for the printed table. */
  outcomes: { status: string; reason: string | null; n: number }[];
  /** Seconds from a winner stored to its redemption recorded, sorted. */
  latencies: number[];
  /**
   * Win → redeemed p50 of the winners stored in each quarter of the load, in order (NaN: none
   * redeemed): flat while the Redeemer keeps up with the winners' arrival, growing when a backlog builds.
   */
  latencyByQuarter: number[];
  /** Seconds from a redeemed winner stored to the tx that redeemed it stored (just before broadcast), sorted. */
  sentAfter: number[];
  winnersPerSecond: number;
  txs: number;
  txsPerBlock: number;
  maxTxsPerBlock: number;
  /** Mean tickets per mined redemption tx. */
  ticketsPerTx: number;
  /** Gas mined redemption txs used per ticket they held: what one winner asks of the chain. */
  gasPerTicket: number;
  /** Mean gas our mined redemption txs used per block holding one, and the txs' gas limits ÷ that. */
  gasPerBlock: number;
  limitOverUsed: number;
  maxTxsInFlight: number;
  /** Redemption txs that reverted (gas lost on a real chain), and the tickets they held (retried). */
  revertedTxs: number;
  revertedTickets: number;
  /** Mined redemption txs by blocks from the block they were sent at to the one that mined them. */
  miningDelays: [number, number][];
}

interface VariantResult extends RedemptionFigures {
  variant: Variant;
  rate: number;
  /** Winners stored per second of the run: what the Redeemer (and the chain) must keep up with. */
  winnersArrived: number;
  errors: number;
  errorKinds: [string, number][];
  /** Per call: count, p50 and p90 latency in ms. */
  calls: [string, { n: number; p50: number; p90: number }][];
  sessions: number;
  paying: PayingCpu;
  /** Redeemer CPU (user + system) from the variant's start until its winners are final, per winner. */
  redeemerCpuMsPerWinner: number;
  /**
   * The same for the stack's anvil and Postgres (all its processes); they also serve the Sender and
   * Recipient, so this is what the whole run asks of them, spread over its winners.
   */
  anvilCpuMsPerWinner: number;
  postgresCpuMsPerWinner: number;
  redisCpuMsPerWinner: number;
  /** Redeemer checks that left a winner waiting or retrying (a job run that did not redeem it), per reason, per winner. */
  waitsPerWinner: [string, number][];
  /** The Redeemer's round-end margin once the variant's winners are final (L1 blocks), if it exports one. */
  roundEndMargin?: number;
  postgresPerWinner: PostgresPerWinner;
}

/** What the stack asked of Postgres over a variant, per winner (pg_stat_database of its database). */
interface PostgresPerWinner {
  commits: number;
  inserted: number;
  updated: number;
  deleted: number;
  /** Per statement text, when the cluster preloads pg_stat_statements: calls per winner, most first. */
  statements: [string, number][];
}

/**
 * CPU per payment of the Recipient, the Sender and this process (the clients of both) over a
 * variant's run, and where a payment's time goes: the Recipient's mean per payment phase, and each
 * call's mean time inside its service (the rest of a call's latency is transport and queueing).
 */
interface PayingCpu {
  recipientMs: number;
  senderMs: number;
  /** This process, the broadcaster and orchestrator's gRPC client side. */
  driverMs: number;
  /** Per PaymentPhase, and each call's time inside its service: mean ms and how many calls. */
  phases: [string, { meanMs: number; n: number }][];
}

interface PayingSample {
  recipientCpu: number;
  senderCpu: number;
  driverCpu: number;
  phases: Map<string, { sum: number; count: number }>;
}

async function payingCpu(recipientHttp: string, senderHttp: string): Promise<PayingSample> {
  const recipientText = await (await fetch(`${recipientHttp}/metrics`)).text();
  const senderText = await (await fetch(`${senderHttp}/metrics`)).text();
  const own = process.cpuUsage();
  return {
    recipientCpu: cpuSecondsIn(recipientText, recipientHttp),
    senderCpu: cpuSecondsIn(senderText, senderHttp),
    driverCpu: (own.user + own.system) / 1e6,
    phases: new Map([
      ...histogramSums(recipientText, 'recipient_payment_phase_seconds', 'phase'),
      ...histogramSums(
        recipientText,
        'recipient_payment_validation_seconds',
        undefined,
        'ProcessPayment in service',
      ),
      ...histogramSums(
        senderText,
        'ticketpay_sender_batch_duration_seconds',
        undefined,
        'CreateTicketBatch in service',
      ),
    ]),
  };
}

/** Sum and count of a histogram, per value of `label` (or summed over all series, named `name`). */
function histogramSums(
  text: string,
  metric: string,
  label?: string,
  name = metric,
): Map<string, { sum: number; count: number }> {
  const sums = new Map<string, { sum: number; count: number }>();
  for (const m of text.matchAll(new RegExp(`^${metric}_(sum|count)(?:\\{([^}]*)\\})?\\s+(\\S+)$`, 'gm'))) {
    const key = label ? new RegExp(`\\b${label}="([^"]*)"`).exec(m[2] ?? '')?.[1] : name;
    if (key === undefined) continue;
    const entry = sums.get(key) ?? { sum: 0, count: 0 };
    entry[m[1] as 'sum' | 'count'] += Number(m[3]);
    sums.set(key, entry);
  }
  return sums;
}

function payingCpuSince(before: PayingSample, after: PayingSample, payments: number): PayingCpu {
  const perPayment = (seconds: number) => (payments > 0 ? (1_000 * seconds) / payments : Number.NaN);
  return {
    recipientMs: perPayment(after.recipientCpu - before.recipientCpu),
    senderMs: perPayment(after.senderCpu - before.senderCpu),
    driverMs: perPayment(after.driverCpu - before.driverCpu),
    phases: [...after.phases].map(([phase, a]) => {
      const b = before.phases.get(phase) ?? { sum: 0, count: 0 };
      const n = a.count - b.count;
      return [phase, { meanMs: n > 0 ? (1_000 * (a.sum - b.sum)) / n : Number.NaN, n }];
    }),
  };
}

/** A service's process_cpu_seconds_total (prom-client default metrics): robust to a loaded machine. */
async function processCpuSeconds(httpBase: string): Promise<number> {
  return cpuSecondsIn(await (await fetch(`${httpBase}/metrics`)).text(), httpBase);
}

function cpuSecondsIn(text: string, httpBase: string): number {
  const m = /^process_cpu_seconds_total(?:\{[^}]*\})?\s+(\S+)$/m.exec(text);
  if (!m) throw new Error(`no process_cpu_seconds_total at ${httpBase}/metrics`);
  return Number(m[1]);
}

/**
 * CPU seconds (user + system) so far of the stack's anvil and embedded Postgres, found by the state
 * directory in their command lines (/proc, Linux only; NaN elsewhere). Postgres counts the
 * postmaster, its live children, and its children that exited (cutime + cstime).
 */
function stackCpuSeconds(
  stateDir: string,
  stackPid?: number,
): { anvil: number; postgres: number; redis: number } {
  let procs: { pid: number; ppid: number; args: string; fields: string[] }[];
  try {
    procs = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .flatMap((d) => {
        try {
          const fields = procStatFields(d);
          const args = readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ');
          return [{ pid: Number(d), ppid: Number(fields[1]), args, fields }];
        } catch {
          return []; // exited meanwhile
        }
      });
  } catch {
    return { anvil: Number.NaN, postgres: Number.NaN, redis: Number.NaN };
  }
  const mine = procs.filter((p) => p.args.includes(stateDir));
  const anvil = mine.filter((p) => /(^|\/)anvil /.test(p.args));
  const postmaster = mine.filter((p) => /(^|\/)postgres /.test(p.args));
  const backends = procs.filter((p) => postmaster.some((m) => m.pid === p.ppid));
  // redis-server renames its command line: found as the stack's child instead.
  const redis = procs.filter((p) => p.ppid === stackPid && /^redis-server /.test(p.args));
  return {
    anvil: anvil.reduce((sum, p) => sum + ownCpuSeconds(p.fields), 0),
    redis: redis.reduce((sum, p) => sum + ownCpuSeconds(p.fields), 0),
    postgres:
      postmaster.reduce((sum, p) => sum + ownCpuSeconds(p.fields) + reapedCpuSeconds(p.fields), 0) +
      backends.reduce((sum, p) => sum + ownCpuSeconds(p.fields), 0),
  };
}

/** The Redeemer's waits (redeemer_ticket_waits_total) and retries (redeemer_retries_total) per reason code so far. */
async function redeemerWaits(httpBase: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${httpBase}/metrics`)).text();
  const waits = new Map<string, number>();
  for (const m of text.matchAll(
    /^redeemer_(ticket_waits|retries)_total\{[^}]*\bcode="([^"]*)"[^}]*\}\s+(\S+)$/gm,
  )) {
    const key = `${m[1] === 'retries' ? 'retry' : 'wait'} ${m[2]}`;
    waits.set(key, (waits.get(key) ?? 0) + Number(m[3]));
  }
  return waits;
}

/** A gauge of the Redeemer's /metrics, undefined when it exports none by that name. */
async function redeemerGauge(httpBase: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${httpBase}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

interface PostgresCounts {
  commits: number;
  inserted: number;
  updated: number;
  deleted: number;
  statements: Map<string, number>;
}

/** The database's commits and rows written so far, and pg_stat_statements' calls when loaded. */
async function postgresCounts(db: pg.Client): Promise<PostgresCounts> {
  const { rows } = await db.query<Record<'commits' | 'inserted' | 'updated' | 'deleted', string>>(
    `SELECT xact_commit AS commits, tup_inserted AS inserted, tup_updated AS updated, tup_deleted AS deleted
       FROM pg_stat_database WHERE datname = current_database()`,
  );
  const statements = new Map<string, number>();
  try {
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const stats = await db.query<{ query: string; calls: string }>(
      `SELECT query, calls FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    for (const r of stats.rows) {
      const flat = r.query.replace(/\s+/g, ' ');
      const text = flat.length > 150 ? `${flat.slice(0, 90)} … ${flat.slice(-60)}` : flat;
      statements.set(text, (statements.get(text) ?? 0) + Number(r.calls));
    }
  } catch {
    // Not preloaded by this cluster: the totals above only.
  }
  const r = rows[0];
  return {
    commits: Number(r.commits),
    inserted: Number(r.inserted),
    updated: Number(r.updated),
    deleted: Number(r.deleted),
    statements,
  };
}

function postgresCountsPerWinner(a: PostgresCounts, b: PostgresCounts, winners: number): PostgresPerWinner {
  const per = (n: number) => (winners > 0 ? n / winners : Number.NaN);
  return {
    commits: per(b.commits - a.commits),
    inserted: per(b.inserted - a.inserted),
    updated: per(b.updated - a.updated),
    deleted: per(b.deleted - a.deleted),
    statements: [...b.statements]
      .map(([text, calls]): [string, number] => [text, per(calls - (a.statements.get(text) ?? 0))])
      .filter(([, n]) => n >= 0.01)
      .sort((x, y) => y[1] - x[1]),
  };
}

async function dbNow(db: pg.Client): Promise<Date> {
  return (await db.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0].now;
}

/** Until every winner stored since `since` is final (or REDEEM_WAIT_MS passed). */
async function waitForWinners(db: pg.Client, since: Date): Promise<void> {
  const waitUntil = Date.now() + REDEEM_WAIT_MS;
  for (;;) {
    const { rows } = await db.query<{ open: string }>(
      `SELECT count(*) AS open FROM winning_ticket
        WHERE created_at >= $1 AND status NOT IN ('redeemed', 'failed', 'expired')`,
      [since],
    );
    if (Number(rows[0].open) === 0 || Date.now() > waitUntil) return;
    await sleep(1_000);
  }
}

/** What became of the winners stored in [since, until), and the txs that redeemed them. */
async function redemptionFigures(db: pg.Client, since: Date, until: Date): Promise<RedemptionFigures> {
  const window = [since, until];
  const { rows } = await db.query<{
    status: string;
    seconds: string | null;
    sent: string | null;
    created: Date;
    redeemed: Date | null;
  }>(
    `SELECT w.status, extract(epoch FROM (r.redeemed_at - w.created_at)) AS seconds,
            extract(epoch FROM (t.created_at - w.created_at)) AS sent,
            w.created_at AS created, r.redeemed_at AS redeemed
       FROM winning_ticket w LEFT JOIN redemption r USING (ticket_hash)
       LEFT JOIN chain_tx t ON t.id = r.chain_tx_id
      WHERE w.created_at >= $1 AND w.created_at < $2`,
    window,
  );
  const outcomes = await db.query<{ status: string; reason: string | null; n: string }>(
    `SELECT status, left(status_reason, 120) AS reason, count(*) AS n FROM winning_ticket
      WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2 ORDER BY 3 DESC`,
    window,
  );
  const txs = await db.query<{
    sent_block: string;
    block_number: string | null;
    status: string;
    tickets: number;
    gas_limit: string;
    gas_used: string | null;
  }>(
    `SELECT DISTINCT t.id, t.sent_block, t.block_number, t.status, cardinality(t.refs) AS tickets,
            t.gas_limit, t.gas_used FROM chain_tx t
       JOIN winning_ticket w ON w.ticket_hash = ANY(t.refs)
      WHERE w.created_at >= $1 AND w.created_at < $2 AND t.purpose IN ('redeem', 'batch-redeem')`,
    window,
  );
  const redeemedRows = rows.filter((r) => r.status === 'redeemed' && r.seconds !== null);
  const latencies = redeemedRows.map((r) => Number(r.seconds)).sort((a, b) => a - b);
  const sentAfter = redeemedRows
    .filter((r) => r.sent !== null)
    .map((r) => Number(r.sent))
    .sort((a, b) => a - b);
  const first = Math.min(...rows.map((r) => r.created.getTime()));
  const last = Math.max(...redeemedRows.map((r) => r.redeemed!.getTime()));
  const perBlock = new Map<bigint, number>();
  const spans: [bigint, bigint][] = [];
  const delays = new Map<number, number>();
  let gasUsed = 0;
  let gasLimits = 0;
  let minedTickets = 0;
  for (const tx of txs.rows) {
    if (tx.block_number === null) continue;
    gasUsed += Number(tx.gas_used ?? 0);
    gasLimits += Number(tx.gas_limit);
    minedTickets += Number(tx.tickets);
    const block = BigInt(tx.block_number);
    perBlock.set(block, (perBlock.get(block) ?? 0) + 1);
    spans.push([BigInt(tx.sent_block), block]);
    const delay = Number(block - BigInt(tx.sent_block));
    delays.set(delay, (delays.get(delay) ?? 0) + 1);
  }
  // Txs in flight at a block: sent at or before it, mined at or after it.
  let maxTxsInFlight = 0;
  for (const [, at] of spans) {
    maxTxsInFlight = Math.max(maxTxsInFlight, spans.filter(([s, m]) => s <= at && m >= at).length);
  }
  const mined = [...perBlock.values()].reduce((a, b) => a + b, 0);
  const reverted = txs.rows.filter((tx) => tx.status === 'reverted');
  return {
    winners: rows.length,
    redeemed: latencies.length,
    expired: rows.filter((r) => r.status === 'expired').length,
    outcomes: outcomes.rows.map((o) => ({ status: o.status, reason: o.reason, n: Number(o.n) })),
    latencies,
    latencyByQuarter: [0, 1, 2, 3].map((q) => {
      const from = since.getTime() + (q * (until.getTime() - since.getTime())) / 4;
      const to = since.getTime() + ((q + 1) * (until.getTime() - since.getTime())) / 4;
      const inQuarter = redeemedRows.filter((r) => r.created.getTime() >= from && r.created.getTime() < to);
      return percentile(
        inQuarter.map((r) => Number(r.seconds)).sort((a, b) => a - b),
        0.5,
      );
    }),
    sentAfter,
    winnersPerSecond: latencies.length > 0 ? latencies.length / ((last - first) / 1_000) : 0,
    txs: mined,
    txsPerBlock: perBlock.size > 0 ? mined / perBlock.size : 0,
    maxTxsPerBlock: Math.max(0, ...perBlock.values()),
    ticketsPerTx: mined > 0 ? minedTickets / mined : 0,
    gasPerTicket: minedTickets > 0 ? gasUsed / minedTickets : 0,
    gasPerBlock: perBlock.size > 0 ? gasUsed / perBlock.size : 0,
    limitOverUsed: gasUsed > 0 ? gasLimits / gasUsed : 0,
    maxTxsInFlight,
    revertedTxs: reverted.length,
    revertedTickets: reverted.reduce((sum, tx) => sum + Number(tx.tickets), 0),
    miningDelays: [...delays].sort(([a], [b]) => a - b),
  };
}

interface Economics {
  faceValue: bigint;
  winProb: bigint;
}

/** "face value F wei, 1 ticket in N wins": N rounded to a whole number, exact enough for a report. */
function describeEconomics(e: Economics | undefined): string {
  if (!e || e.winProb === 0n) return 'ticket economics unknown (no params were issued)';
  return `face value ${e.faceValue} wei, 1 ticket in ${(MAX_WIN_PROB + e.winProb / 2n) / e.winProb} wins`;
}

function report(
  ceiling: number,
  results: VariantResult[],
  economics: Economics | undefined,
  blockGasLimit: bigint,
): void {
  const fmt = (n: number) => n.toFixed(1);
  console.log(
    `End-to-end on the local stack (${availableParallelism()} cores; ${LOOPS} payment loops in flight, ` +
      `${BATCH_SIZE} tickets per payment, ${RUN_MS / 1000} s per variant; ${describeEconomics(economics)}; ` +
      `dev chain: 1 s blocks of ${Number(blockGasLimit / 1_000_000n)}M gas)\n`,
  );
  console.log(`single-core ticket validation ceiling (library, same run): ${fmt(ceiling)} tickets/s\n`);
  console.log(`| figure | ${results.map((r) => VARIANTS[r.variant]).join(' | ')} |`);
  console.log(`| --- |${results.map(() => ' ---: |').join('')}`);
  const line = (name: string, value: (r: VariantResult) => string) =>
    console.log(`| ${name} | ${results.map(value).join(' | ')} |`);
  line('tickets/s (accepted)', (r) => fmt(r.rate));
  line('of the single-core ceiling', (r) => `${fmt((100 * r.rate) / ceiling)}%`);
  line('sessions (params fetched)', (r) => String(r.sessions));
  line('failed calls', (r) => String(r.errors));
  line('recipient CPU ms per payment', (r) => fmt(r.paying.recipientMs));
  line('sender CPU ms per payment', (r) => fmt(r.paying.senderMs));
  line('bench driver CPU ms per payment', (r) => fmt(r.paying.driverMs));
  line('winning tickets', (r) => String(r.winners));
  line('redeemed', (r) => String(r.redeemed));
  line('expired', (r) => String(r.expired));
  line('winners arrived/s', (r) => fmt(r.winnersArrived));
  line('winners redeemed/s', (r) => fmt(r.winnersPerSecond));
  line('redemption txs', (r) => String(r.txs));
  line('txs per block (blocks with one)', (r) => `${fmt(r.txsPerBlock)} (max ${r.maxTxsPerBlock})`);
  line('tickets per tx', (r) => fmt(r.ticketsPerTx));
  line('gas used per block (blocks with one), M', (r) => (r.gasPerBlock / 1e6).toFixed(2));
  line('gas used per redeemed ticket', (r) => r.gasPerTicket.toFixed(0));
  // What the chain could take at most: every 1 s block full of such tickets, none held back at a
  // round's end. Winners arriving faster than this cannot all be redeemed, whatever the Redeemer does.
  line('chain ceiling: full blocks of such tickets, winners/s', (r) =>
    r.gasPerTicket > 0 ? fmt(Number(blockGasLimit) / r.gasPerTicket) : '—',
  );
  line('tx gas limits ÷ gas used', (r) => fmt(r.limitOverUsed));
  line('most txs in flight', (r) => String(r.maxTxsInFlight));
  line('reverted redemption txs (tickets in them)', (r) => `${r.revertedTxs} (${r.revertedTickets})`);
  line(
    'mined redemption txs by blocks sent → mined',
    (r) => r.miningDelays.map(([d, n]) => `${d}:${n}`).join(', ') || '—',
  );
  line('redeemer round-end margin at the end (blocks)', (r) =>
    r.roundEndMargin === undefined ? '—' : String(r.roundEndMargin),
  );
  line('redeemer CPU ms per winner', (r) => fmt(r.redeemerCpuMsPerWinner));
  line('anvil CPU ms per winner', (r) => fmt(r.anvilCpuMsPerWinner));
  line('postgres CPU ms per winner', (r) => fmt(r.postgresCpuMsPerWinner));
  line('redis CPU ms per winner', (r) => fmt(r.redisCpuMsPerWinner));
  const fmt2 = (n: number) => n.toFixed(2);
  line(
    'redeemer waits and retries per winner',
    (r) => r.waitsPerWinner.map(([c, n]) => `${c} ${fmt2(n)}`).join(', ') || '0',
  );
  line('postgres commits per winner', (r) => fmt2(r.postgresPerWinner.commits));
  line(
    'postgres rows inserted / updated / deleted per winner',
    (r) =>
      `${fmt2(r.postgresPerWinner.inserted)} / ${fmt2(r.postgresPerWinner.updated)} / ${fmt2(r.postgresPerWinner.deleted)}`,
  );
  line('win → its tx sent p50 (s)', (r) => fmt(percentile(r.sentAfter, 0.5)));
  line('win → redeemed p50 (s)', (r) => fmt(percentile(r.latencies, 0.5)));
  line('win → redeemed p90 (s)', (r) => fmt(percentile(r.latencies, 0.9)));
  line('win → redeemed p50 by quarter of the load (s)', (r) =>
    r.latencyByQuarter.map((s) => (Number.isNaN(s) ? '—' : fmt(s))).join(' / '),
  );
  for (const r of results) {
    const calls = r.calls.map(([name, c]) => `${name} ×${c.n} p50 ${fmt(c.p50)} ms p90 ${fmt(c.p90)} ms`);
    console.log(`${VARIANTS[r.variant]}: calls ${calls.join('; ')}`);
    const phases = r.paying.phases.map(([phase, p]) => `${phase} ${fmt(p.meanMs)} ms ×${p.n}`);
    console.log(`${VARIANTS[r.variant]}: payment phases and in-service times (mean) ${phases.join('; ')}`);
    for (const [what, n] of r.errorKinds) console.log(`${VARIANTS[r.variant]}: ${n} × failed call: ${what}`);
    for (const [text, n] of r.postgresPerWinner.statements) {
      console.log(`${VARIANTS[r.variant]}: statement ×${n.toFixed(2)} per winner: ${text}`);
    }
    for (const o of r.outcomes) {
      console.log(`${VARIANTS[r.variant]}: winners ${o.status}${o.reason ? ` (${o.reason})` : ''}: ${o.n}`);
    }
  }
  const realistic = results.find((r) => r.variant === 'realistic');
  const figures: BenchFigure[] = [
    { name: 'single-core ticket validation ceiling (same run)', value: ceiling, unit: 'tickets/s' },
  ];
  if (realistic) {
    figures.push({
      name: 'realistic loop of the single-core ceiling',
      value: (100 * realistic.rate) / ceiling,
      unit: '%',
    });
  }
  for (const r of results) {
    const v = VARIANTS[r.variant];
    figures.push(
      { name: `end-to-end tickets, ${v}`, value: r.rate, unit: 'tickets/s' },
      { name: `winners redeemed, ${v}`, value: r.redeemed, unit: `of ${r.winners}` },
      { name: `winners expired, ${v}`, value: r.expired, unit: 'tickets' },
      { name: `winners arrived per second, ${v}`, value: r.winnersArrived, unit: 'winners/s' },
      { name: `winners redeemed per second, ${v}`, value: r.winnersPerSecond, unit: 'winners/s' },
      { name: `redemption txs per block, ${v}`, value: r.txsPerBlock, unit: 'txs/block' },
      { name: `redemption gas used per block, ${v}`, value: r.gasPerBlock / 1e6, unit: 'Mgas' },
      {
        name: `chain ceiling at full blocks, ${v}`,
        value: r.gasPerTicket > 0 ? Number(blockGasLimit) / r.gasPerTicket : Number.NaN,
        unit: 'winners/s',
      },
      { name: `reverted redemption txs, ${v}`, value: r.revertedTxs, unit: 'txs' },
      { name: `redeemer CPU per winner, ${v}`, value: r.redeemerCpuMsPerWinner, unit: 'ms' },
      { name: `anvil CPU per winner, ${v}`, value: r.anvilCpuMsPerWinner, unit: 'ms' },
      { name: `postgres CPU per winner, ${v}`, value: r.postgresCpuMsPerWinner, unit: 'ms' },
      { name: `redis CPU per winner, ${v}`, value: r.redisCpuMsPerWinner, unit: 'ms' },
      { name: `postgres commits per winner, ${v}`, value: r.postgresPerWinner.commits, unit: 'commits' },
      {
        name: `winning ticket received → redeemed, p50, ${v}`,
        value: percentile(r.latencies, 0.5),
        unit: 's',
      },
      {
        name: `winning ticket received → redeemed, p90, ${v}`,
        value: percentile(r.latencies, 0.9),
        unit: 's',
      },
    );
  }
  printBenchJson('e2e', figures);
}

/** Latency of each kind of call the loops make, for where the time of a payment goes. */
class CallTimes {
  private readonly times = new Map<string, number[]>();

  async time<T>(name: string, call: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await call();
    } finally {
      const list = this.times.get(name) ?? [];
      list.push(performance.now() - t0);
      this.times.set(name, list);
    }
  }

  clear(): void {
    this.times.clear();
  }

  summary(): [string, { n: number; p50: number; p90: number }][] {
    return [...this.times].map(([name, list]) => {
      const sorted = [...list].sort((a, b) => a - b);
      return [name, { n: sorted.length, p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9) }];
    });
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
