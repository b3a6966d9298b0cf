// Load generator for `npm run bench:recipient`, run as its own process so the Recipient under test
// has the other process's cores to itself as much as a 2-core machine allows. It fetches params
// over gRPC, signs every payment up front (signing is the sender's cost, not measured), then sends
// payments with a fixed number in flight and prints one JSON line with the results. A warm-up of
// the same payments, not counted, goes first (both processes' code is then compiled, connections
// open): the line MEASURE_START marks its end, MEASURE_END the end of the measured run, so the
// bench counts the service's CPU over the same window. With `coalesce`
// the client folds the calls in flight into ProcessPayments calls (RecipientClient's default);
// without, each payment is one ProcessPayment call.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { PaymentMessage } from '#app/proto';
import { hexToBytes } from '#app/ticket';
import { RecipientClient } from '#app/clients';
import { signedPayment } from './signed-payment.js';

export interface LoadSpec {
  /** Recipient replicas (gRPC host:port); the loops are spread over them in turn, params come from the first. */
  targets: string[];
  senderKey: string;
  senderAddress: string;
  ticketsPerPayment: number;
  payments: number;
  /** Payments sent first and not counted (default none). */
  warmUpPayments?: number;
  concurrency: number;
  /** Nonces per set of params before new ones are fetched (the Recipient caps them at 600). */
  noncesPerParams: number;
  /**
   * Payments per second to offer (still at most `concurrency` in flight); unset = as fast as they
   * are answered. A fixed rate makes CPU per payment comparable between runs on a busy machine:
   * the service's background work is then spread over the same number of payments.
   */
  ratePerSecond?: number;
  /** RecipientClient's coalescing of concurrent calls into ProcessPayments; false = one RPC each. */
  coalesce: boolean;
  /** Most payments in one ProcessPayments call (the client's default when unset). */
  maxBatch?: number;
  /** Most tickets in one ProcessPayments call (the client's default when unset). */
  maxBatchTickets?: number;
}

export interface LoadResult {
  tickets: number;
  accepted: number;
  seconds: number;
  /** CPU time this process spent sending (user + system), seconds. */
  cpuSeconds: number;
  latenciesMs: number[];
}

const PRICE = { pricePerUnit: '1200', pixelsPerUnit: '1' };

/** Printed on a line of its own when the measured run starts and when it ends. */
export const MEASURE_START = 'MEASURE_START';
export const MEASURE_END = 'MEASURE_END';

async function prepare(client: RecipientClient, spec: LoadSpec, count: number): Promise<PaymentMessage[]> {
  const key = hexToBytes(spec.senderKey, 'senderKey', 32);
  const sender = hexToBytes(spec.senderAddress, 'senderAddress', 20);
  const payments: PaymentMessage[] = [];
  let issued = await client.getTicketParams({ sender, price: PRICE });
  let nextNonce = 1;
  for (let i = 0; i < count; i++) {
    if (nextNonce + spec.ticketsPerPayment - 1 > spec.noncesPerParams) {
      issued = await client.getTicketParams({ sender, price: PRICE });
      nextNonce = 1;
    }
    const nonces = Array.from({ length: spec.ticketsPerPayment }, (_, k) => nextNonce + k);
    nextNonce += spec.ticketsPerPayment;
    payments.push(signedPayment(issued, nonces, key));
  }
  return payments;
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const limits = {
    ...(spec.maxBatch ? { maxPayments: spec.maxBatch } : {}),
    ...(spec.maxBatchTickets ? { maxTickets: spec.maxBatchTickets } : {}),
  };
  const clients = spec.targets.map(
    (target) => new RecipientClient(target, 60_000, { coalesce: spec.coalesce && limits }),
  );
  try {
    const warmUp = spec.warmUpPayments ?? 0;
    const all = await prepare(clients[0], spec, warmUp + spec.payments);
    const send = async (payments: PaymentMessage[], latenciesMs?: number[]): Promise<number> => {
      let accepted = 0;
      let next = 0;
      const started = performance.now();
      const rate = spec.ratePerSecond;
      const worker = async (id: number) => {
        while (next < payments.length) {
          const index = next++;
          const payment = payments[index];
          if (rate) {
            const due = started + (index * 1000) / rate - performance.now();
            if (due > 0) await new Promise((r) => setTimeout(r, due));
          }
          const t0 = performance.now();
          const res = await clients[id % clients.length].processPayment({ payment, jobId: `bench-${id}` });
          latenciesMs?.push(performance.now() - t0);
          accepted += res.acceptedCount;
        }
      };
      await Promise.all(Array.from({ length: spec.concurrency }, (_, id) => worker(id)));
      return accepted;
    };
    if (warmUp > 0) await send(all.slice(0, warmUp));
    process.stdout.write(`${MEASURE_START}\n`);
    const latenciesMs: number[] = [];
    const started = performance.now();
    const cpu = process.cpuUsage();
    const accepted = await send(all.slice(warmUp), latenciesMs);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    process.stdout.write(`${MEASURE_END}\n`);
    const cpuSeconds = (used.user + used.system) / 1e6;
    return { tickets: spec.payments * spec.ticketsPerPayment, accepted, seconds, cpuSeconds, latenciesMs };
  } finally {
    for (const client of clients) client.close();
  }
}

// Run as a script only: the bench imports the markers above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
  run(spec).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`load generator failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
