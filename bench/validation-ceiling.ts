/**
 * What the ticket benchmark and the end-to-end benchmark share: batches O accepts, a step that
 * validates them on one core as the Recipient does (receiveTicketBatch), and the timing helpers.
 * The end-to-end benchmark measures its ceiling with the same code `npm run bench:ticket` uses.
 */
import {
  InMemoryNonceLedger,
  Rational,
  computeRecipientRand,
  createTicketBatch,
  inThreadVerifier,
  receiveTicketBatch,
  recipientRandHash,
  selectCryptoBackend,
  winProbForEV,
  type BatchVerifier,
  type CryptoBackend,
  type RecipientContext,
  type TicketBatch,
} from '#app/ticket';

export const RUN_MS = 600;

const SECRET = new Uint8Array(32).fill(0x11);
const RECIPIENT = new Uint8Array(20).fill(0x70);
export const KEY = new Uint8Array(32).fill(0x42);
export const CTX: RecipientContext = {
  recipient: RECIPIENT,
  secret: SECRET,
  lastSeenL1Block: 100n,
  lastInitializedRound: 10n,
  senderInfo: { withdrawRound: 0n },
};

/** `count` batches O accepts, each on its own params (own commitment, so nonces never collide). */
export function makeBatches(count: number, size: number, signer: CryptoBackend): TicketBatch[] {
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

/** Calls `step` (which reports how many operations it did) for `ms`; returns operations per second. */
export async function rate(step: () => number | Promise<number>, ms = RUN_MS): Promise<number> {
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    ops += await step();
    elapsed = performance.now() - start;
  }
  return (ops * 1000) / elapsed;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Cycles through the batches, with a fresh ledger per cycle so every pass records new nonces. */
export function validationStep(batches: TicketBatch[], verify: BatchVerifier): () => Promise<number> {
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

/**
 * Single-core ticket validation with the default crypto backend, as `npm run bench:ticket`
 * reports it ("native ticket validation"): median of `runs` runs after a warm-up.
 */
export async function singleCoreValidationCeiling(runs: number): Promise<number> {
  const backend = selectCryptoBackend();
  const step = validationStep(makeBatches(20, 50, backend), inThreadVerifier(backend));
  await rate(step);
  const results: number[] = [];
  for (let i = 0; i < runs; i++) results.push(await rate(step));
  return median(results);
}
