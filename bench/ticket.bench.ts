/**
 * Ticket-validation benchmark: `npm run bench:ticket`. Prints figures, never passes or fails.
 *
 * Per crypto backend, on one core: raw signature recovery (the backend's library call alone,
 * on the same digests and signatures the validations use), full ticket validation as O runs it
 * (receiveTicketBatch: HMAC and shared checks per batch; per ticket the hash, EIP-191 digest,
 * recovery, address comparison, lottery and nonce bookkeeping), and signing (hash + digest +
 * sign). Then batch validation on the worker pool, one thread per core. Every figure is the
 * median of RUNS runs; raw and validation runs alternate so drift hits both alike.
 */
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type * as Secp256k1 from 'secp256k1';
import {
  InMemoryNonceLedger,
  PersonalDigester,
  TicketHasher,
  ValidationPool,
  availableBackends,
  inThreadVerifier,
  keccakImplementation,
  personalDigest,
  receiveTicketBatch,
  selectCryptoBackend,
  ticketHash,
  type CryptoBackend,
  type TicketBatch,
} from '#app/ticket';
import { printBenchJson } from './bench-json.js';
import { CTX, KEY, RUN_MS, makeBatches, median, rate, validationStep } from './validation-ceiling.js';

const RUNS = 5;
const BATCHES = 20;
const TICKETS_PER_BATCH = 50;
const POOL_BATCHES = 8;
const POOL_TICKETS_PER_BATCH = 400;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
const spread = (values: number[]) => `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;

/** The backend's own recovery call with no protocol work around it. */
function rawRecover(backend: CryptoBackend): (digest: Uint8Array, sig: Uint8Array) => void {
  if (backend.name === 'native') {
    const secp = createRequire(import.meta.url)('secp256k1/bindings.js') as typeof Secp256k1;
    const output = new Uint8Array(65);
    return (digest, sig) => secp.ecdsaRecover(sig.subarray(0, 64), sig[64] - 27, digest, false, output);
  }
  return (digest, sig) => {
    const recovered = new Uint8Array(65);
    recovered[0] = sig[64] - 27;
    recovered.set(sig.subarray(0, 64), 1);
    secp256k1.Signature.fromBytes(recovered, 'recovered').recoverPublicKey(digest);
  };
}

interface BackendFigures {
  recover: number[];
  validate: number[];
  ratio: number[];
  sign: number[];
}

async function measureBackend(backend: CryptoBackend, batches: TicketBatch[]): Promise<BackendFigures> {
  const samples = batches.flatMap((batch) => {
    const template = { ...batch.params, ...batch.expirationParams, sender: batch.sender };
    return batch.senderParams.map((p) => ({
      digest: personalDigest(ticketHash({ ...template, senderNonce: p.senderNonce })),
      sig: p.sig,
    }));
  });
  const recover = rawRecover(backend);
  let s = 0;
  const recoverStep = () => {
    for (let i = 0; i < 25; i++, s = (s + 1) % samples.length) recover(samples[s].digest, samples[s].sig);
    return 25;
  };
  const validateStep = validationStep(batches, inThreadVerifier(backend));
  const hasher = new TicketHasher({
    ...batches[0].params,
    ...batches[0].expirationParams,
    sender: batches[0].sender,
  });
  const digester = new PersonalDigester();
  let nonce = 0;
  const signStep = () => {
    for (let i = 0; i < 10; i++) backend.sign(digester.digest(hasher.hash(++nonce)), KEY);
    return 10;
  };

  await rate(validateStep); // warm-up: JIT, WebAssembly tier-up
  const figures: BackendFigures = { recover: [], validate: [], ratio: [], sign: [] };
  for (let run = 0; run < RUNS; run++) {
    const r = await rate(recoverStep);
    const v = await rate(validateStep);
    figures.recover.push(r);
    figures.validate.push(v);
    figures.ratio.push(v / r);
    figures.sign.push(await rate(signStep));
  }
  return figures;
}

async function measurePool(threads: number): Promise<number[]> {
  const pool = new ValidationPool({ size: threads, minChunkSize: 50 });
  const batches = makeBatches(POOL_BATCHES, POOL_TICKETS_PER_BATCH, selectCryptoBackend());
  try {
    let ledger = new InMemoryNonceLedger();
    // Every batch of a pass in flight at once, so all threads stay busy.
    const pass = async () => {
      const received = await Promise.all(
        batches.map((b) => receiveTicketBatch(b, CTX, { ledger, verify: pool.verifier })),
      );
      ledger = new InMemoryNonceLedger();
      return received.reduce((n, r) => n + r.length, 0);
    };
    await pass(); // starts the threads
    const results: number[] = [];
    for (let run = 0; run < RUNS; run++) results.push(await rate(pass));
    return results;
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const threads = availableParallelism();
  console.log(
    `ticket benchmark: Node ${process.version}, ${threads} × ${cpus()[0]?.model ?? 'unknown CPU'}, keccak ${keccakImplementation}`,
  );
  console.log(
    `medians of ${RUNS} runs of ${RUN_MS} ms (min–max); ${BATCHES} batches × ${TICKETS_PER_BATCH} tickets\n`,
  );

  const batches = makeBatches(BATCHES, TICKETS_PER_BATCH, selectCryptoBackend());
  const rows: [string, BackendFigures][] = [];
  for (const backend of availableBackends())
    rows.push([backend.name, await measureBackend(backend, batches)]);

  console.log(
    'backend   raw recover/s            validations/s            signing/s                validation/recover',
  );
  for (const [name, f] of rows) {
    const cell = (values: number[]) => `${fmt(median(values))} (${spread(values)})`.padEnd(25);
    console.log(
      `${name.padEnd(10)}${cell(f.recover)}${cell(f.validate)}${cell(f.sign)}${pct(median(f.ratio))} (${pct(Math.min(...f.ratio))}–${pct(Math.max(...f.ratio))})`,
    );
  }
  const native = rows.find(([name]) => name === 'native')?.[1];
  const noble = rows.find(([name]) => name === 'noble')?.[1];
  if (native && noble) {
    const x = (a: number[], b: number[]) => `${(median(a) / median(b)).toFixed(1)}×`;
    console.log(
      `\nnative vs noble: recover ${x(native.recover, noble.recover)}, validation ${x(native.validate, noble.validate)}, ` +
        `signing ${x(native.sign, noble.sign)}`,
    );
  }

  const pool = await measurePool(threads);
  console.log(
    `\nworker pool, ${threads} threads (${selectCryptoBackend().name}), ${POOL_BATCHES} concurrent batches × ` +
      `${POOL_TICKETS_PER_BATCH} tickets: ${fmt(median(pool))} validations/s (${spread(pool)})`,
  );
  printBenchJson('ticket', [
    ...rows.flatMap(([name, f]) => [
      { name: `${name} signature recovery`, value: median(f.recover), unit: 'recover/s' },
      { name: `${name} ticket validation`, value: median(f.validate), unit: 'tickets/s' },
      { name: `${name} ticket signing`, value: median(f.sign), unit: 'tickets/s' },
    ]),
    { name: `worker pool validation (${threads} threads)`, value: median(pool), unit: 'tickets/s' },
  ]);
}

await main();
