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
  Rational,
  TicketHasher,
  ValidationPool,
  availableBackends,
  computeRecipientRand,
  createTicketBatch,
  inThreadVerifier,
  keccakImplementation,
  personalDigest,
  receiveTicketBatch,
  recipientRandHash,
  selectCryptoBackend,
  ticketHash,
  winProbForEV,
  type BatchVerifier,
  type CryptoBackend,
  type RecipientContext,
  type TicketBatch,
} from '#app/ticket';
import { printBenchJson } from './bench-json.js';

const RUNS = 5;
const RUN_MS = 600;
const BATCHES = 20;
const TICKETS_PER_BATCH = 50;
const POOL_BATCHES = 8;
const POOL_TICKETS_PER_BATCH = 400;

const SECRET = new Uint8Array(32).fill(0x11);
const RECIPIENT = new Uint8Array(20).fill(0x70);
const KEY = new Uint8Array(32).fill(0x42);
const CTX: RecipientContext = {
  recipient: RECIPIENT,
  secret: SECRET,
  lastSeenL1Block: 100n,
  lastInitializedRound: 10n,
  senderInfo: { withdrawRound: 0n },
};

/** `count` batches O accepts, each on its own params (own commitment, so nonces never collide). */
function makeBatches(count: number, size: number, signer: CryptoBackend): TicketBatch[] {
  const sender = signer.addressOf(KEY);
  const faceValue = 1_200_000_000_000_000n;
  const winProb = winProbForEV(8_000_000_000n, faceValue);
  const expirationParams = { creationRound: 3500n, creationRoundBlockHash: new Uint8Array(32).fill(0xab) };
  const price = Rational.of(1200n);
  return Array.from({ length: count }, (_, b) => {
    const seed = BigInt(b + 1) * 0x9e3779b97f4a7c15n;
    const rand = computeRecipientRand(SECRET, {
      seed,
      sender,
      faceValue,
      winProb,
      expirationBlock: 140n,
      pricePerPixel: price,
      ...expirationParams,
    });
    const params = {
      recipient: RECIPIENT,
      faceValue,
      winProb,
      recipientRandHash: recipientRandHash(rand),
      seed,
      expirationBlock: 140n,
    };
    const nonces = Array.from({ length: size }, (_, i) => i + 1);
    return createTicketBatch(
      { params, expirationParams, pricePerPixel: price, nonces, privateKey: KEY },
      signer,
    );
  });
}

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

/** Calls `step` (which reports how many operations it did) for RUN_MS; returns operations per second. */
async function rate(step: () => number | Promise<number>): Promise<number> {
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < RUN_MS) {
    ops += await step();
    elapsed = performance.now() - start;
  }
  return (ops * 1000) / elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
const spread = (values: number[]) => `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;

/** Cycles through the batches, with a fresh ledger per cycle so every pass records new nonces. */
function validationStep(batches: TicketBatch[], verify: BatchVerifier): () => Promise<number> {
  let next = 0;
  let ledger = new InMemoryNonceLedger();
  return async () => {
    if (next === batches.length) {
      next = 0;
      ledger = new InMemoryNonceLedger();
    }
    const received = await receiveTicketBatch(batches[next++], CTX, { ledger, verify });
    if (received.some((r) => r.error)) throw new Error('benchmark batch was refused');
    return received.length;
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
