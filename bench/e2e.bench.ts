/**
 * End-to-end benchmark: `npm run bench` (or run alone with the bench command line). Prints
 * figures, never passes or fails on time.
 *
 * Starts the local stack as `npm start` does (embedded Postgres, redis-server, anvil with 1 s
 * blocks, the four services as processes) in a temporary state directory, without the demo
 * broadcaster, and drives the demo flow at full speed from here: GetTicketParams (Recipient) →
 * StartSession + CreateTicketBatch (Sender) → ProcessPayment (Recipient), several in flight. It
 * measures tickets/s through that whole loop, then waits for the winners to be redeemed on-chain
 * and reports the time from a winning ticket stored by the Recipient to its redemption recorded by
 * the Redeemer. That time includes the protocol's wait for the params to expire (5 blocks of
 * the demo config + 1 margin block) before recipientRand may be revealed, and 1 confirmation.
 */
import { readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, parseEther, Wallet } from 'ethers';
import pg from 'pg';
import { ticketBrokerAt } from '#app/chain';
import { ANVIL_PRIVATE_KEYS, buildServices, startDevStack } from '#app/testing';
import { RecipientClient } from '#app/clients';
import { SenderApi } from '../scripts/dev/demo-broadcaster.js';
import { embeddedDatabaseUrl } from '../scripts/dev/embedded-postgres.js';
import { printBenchJson } from './bench-json.js';

const WARMUP_MS = 3_000;
const RUN_MS = Number(process.env.BENCH_E2E_SECONDS ?? '20') * 1_000;
const IN_FLIGHT = 4;
const BATCH_SIZE = 10;
const REDEEM_WAIT_MS = 180_000;

async function main(): Promise<void> {
  buildServices();
  const stack = startDevStack('bench-e2e', { TICKETPAY_DEMO: 'false' });
  const { stateDir, proc } = stack;
  let db: pg.Client | undefined;
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
    const token = readFileSync(join(stateDir, 'demo', 'api-token'), 'utf8').trim();
    const deployment = JSON.parse(readFileSync(join(stateDir, 'deployment.json'), 'utf8')) as {
      addresses: { ticketBroker: string };
    };

    // Room for the winners of a full-speed run: the demo funding covers 1000 of them.
    const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
    const senderWallet = new Wallet(ANVIL_PRIVATE_KEYS[2], provider);
    const broker = ticketBrokerAt(deployment.addresses.ticketBroker, senderWallet);
    await (
      await broker.fundDepositAndReserve(parseEther('2000'), parseEther('2000'), {
        value: parseEther('4000'),
      })
    ).wait();
    provider.destroy();
    // Let the services' chain views see the new deposit.
    await sleep(3_000);

    const sender = new SenderApi(senderGrpc, token);
    const recipient = new RecipientClient(recipientGrpc);
    const account = (await sender.call<{ senders: { address: Buffer }[] }>('Senders', {})).senders[0].address;
    const price = { pricePerUnit: '1000', pixelsPerUnit: '1' };
    const payOnce = async (): Promise<number> => {
      const { ticketParams, priceInfo } = await recipient.getTicketParams({ sender: account, price });
      const session = await sender.call<{ sessionId: string }>('StartSession', {
        sender: account,
        ticketParams,
        expectedPrice: priceInfo,
      });
      const batch = await sender.call<{ payment: unknown }>('CreateTicketBatch', {
        sessionId: session.sessionId,
        size: BATCH_SIZE,
      });
      const result = await recipient.processPayment({ payment: batch.payment as never, jobId: 'bench' });
      await sender.call('EndSession', { sessionId: session.sessionId });
      return result.acceptedCount;
    };
    let errors = 0;
    const drive = async (ms: number): Promise<number> => {
      const until = Date.now() + ms;
      let accepted = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (Date.now() < until) {
            try {
              accepted += await payOnce();
            } catch {
              errors++;
            }
          }
        }),
      );
      return accepted;
    };
    await drive(WARMUP_MS);
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const since = (await db.query<{ now: Date }>('SELECT now() AS now')).rows[0].now;
    const t0 = performance.now();
    const accepted = await drive(RUN_MS);
    const seconds = (performance.now() - t0) / 1_000;
    sender.close();
    recipient.close();

    // Every winner of the measured run redeemed (or given up on after REDEEM_WAIT_MS).
    const waitUntil = Date.now() + REDEEM_WAIT_MS;
    for (;;) {
      const { rows } = await db.query<{ open: string }>(
        `SELECT count(*) AS open FROM winning_ticket
          WHERE created_at >= $1 AND status NOT IN ('redeemed', 'failed', 'expired')`,
        [since],
      );
      if (Number(rows[0].open) === 0 || Date.now() > waitUntil) break;
      await sleep(1_000);
    }
    const { rows } = await db.query<{ seconds: string; status: string }>(
      `SELECT w.status, extract(epoch FROM (r.redeemed_at - w.created_at)) AS seconds
         FROM winning_ticket w LEFT JOIN redemption r USING (ticket_hash)
        WHERE w.created_at >= $1`,
      [since],
    );
    const outcomes = await db.query<{ status: string; reason: string | null; n: string }>(
      `SELECT status, left(status_reason, 120) AS reason, count(*) AS n FROM winning_ticket
        WHERE created_at >= $1 GROUP BY 1, 2 ORDER BY 3 DESC`,
      [since],
    );
    const latencies = rows
      .filter((r) => r.status === 'redeemed' && r.seconds !== null)
      .map((r) => Number(r.seconds))
      .sort((a, b) => a - b);
    const rate = accepted / seconds;
    const fmt = (n: number) => n.toFixed(1);
    console.log(
      `End-to-end on the local stack (${availableParallelism()} cores; ${IN_FLIGHT} payment loops in flight, ` +
        `${BATCH_SIZE} tickets per payment, ${RUN_MS / 1000} s)\n`,
    );
    console.log('| figure | value |');
    console.log('| --- | ---: |');
    console.log(`| tickets/s (params → sign → validate, accepted) | ${fmt(rate)} |`);
    console.log(`| winning tickets | ${rows.length} |`);
    console.log(`| redeemed | ${latencies.length} |`);
    console.log(`| win → redeemed p50 (s) | ${fmt(percentile(latencies, 0.5))} |`);
    console.log(`| win → redeemed p90 (s) | ${fmt(percentile(latencies, 0.9))} |`);
    console.log(`| failed calls | ${errors} |`);
    for (const o of outcomes.rows) {
      console.log(`| winners ${o.status}${o.reason ? ` (${o.reason})` : ''} | ${o.n} |`);
    }
    printBenchJson('e2e', [
      { name: 'end-to-end tickets (params → sign → validate)', value: rate, unit: 'tickets/s' },
      {
        name: 'winning ticket received → redeemed on-chain, p50',
        value: percentile(latencies, 0.5),
        unit: 's',
      },
      {
        name: 'winning ticket received → redeemed on-chain, p90',
        value: percentile(latencies, 0.9),
        unit: 's',
      },
      { name: 'winners redeemed', value: latencies.length, unit: `of ${rows.length}` },
    ]);
  } finally {
    await db?.end().catch(() => undefined);
    if (proc.exitCode === null) proc.kill('SIGINT');
    const ended = await Promise.race([stack.exited, sleep(60_000).then(() => 'timeout' as const)]);
    if (ended === 'timeout') proc.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
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
