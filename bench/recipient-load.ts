// Load generator for `npm run bench:recipient`, run as its own process so the Recipient under test
// has the other process's cores to itself as much as a 2-core machine allows. It fetches params
// over gRPC, signs every payment up front (signing is the sender's cost, not measured), then sends
// payments with a fixed number in flight and prints one JSON line with the results. With `coalesce`
// the client folds the calls in flight into ProcessPayments calls (RecipientClient's default);
// without, each payment is one ProcessPayment call.
import { performance } from 'node:perf_hooks';
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

async function prepare(client: RecipientClient, spec: LoadSpec): Promise<PaymentMessage[]> {
  const key = hexToBytes(spec.senderKey, 'senderKey', 32);
  const sender = hexToBytes(spec.senderAddress, 'senderAddress', 20);
  const payments: PaymentMessage[] = [];
  let issued = await client.getTicketParams({ sender, price: PRICE });
  let nextNonce = 1;
  for (let i = 0; i < spec.payments; i++) {
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
    const payments = await prepare(clients[0], spec);
    const latenciesMs: number[] = [];
    let accepted = 0;
    let next = 0;
    const started = performance.now();
    const cpu = process.cpuUsage();
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
        latenciesMs.push(performance.now() - t0);
        accepted += res.acceptedCount;
      }
    };
    await Promise.all(Array.from({ length: spec.concurrency }, (_, id) => worker(id)));
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    return { tickets: spec.payments * spec.ticketsPerPayment, accepted, seconds, cpuSeconds, latenciesMs };
  } finally {
    for (const client of clients) client.close();
  }
}

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
