import { describe, expect, it } from 'vitest';
import type { PackedTicketBatch, TicketBatchChecks } from '#app/ticket';
import { SlicedVerifier } from './sliced-verifier.js';

/** A batch that names itself by its first nonce, and the checks a fake verification gives it. */
function batch(id: number): PackedTicketBatch {
  return { nonces: Uint32Array.of(id) } as unknown as PackedTicketBatch;
}
function checksOf(b: PackedTicketBatch): TicketBatchChecks {
  return { hashes: new Uint8Array(32).fill(b.nonces[0]), status: Uint8Array.of(0) };
}

/** Counts event-loop turns (one setImmediate each) until stopped. */
function turnCounter(): { readonly turn: number; stop(): void } {
  let turn = 0;
  let running = true;
  const tick = (): void => {
    if (!running) return;
    turn++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get turn() {
      return turn;
    },
    stop: () => (running = false),
  };
}

/** A verifier whose every batch costs `costMs` on a fake clock. */
function slicer(budgetMs: number, costMs: number): SlicedVerifier {
  let clock = 0;
  return new SlicedVerifier(
    (b) => {
      clock += costMs;
      return checksOf(b);
    },
    budgetMs,
    () => clock,
  );
}

describe('SlicedVerifier', () => {
  it('answers each batch with its own checks, first come first verified; a failure is its own', async () => {
    const order: number[] = [];
    const verifier = new SlicedVerifier((b) => {
      order.push(b.nonces[0]);
      if (b.nonces[0] === 2) throw new Error('bad batch');
      return checksOf(b);
    }, 1);
    const results = await Promise.allSettled([1, 2, 3].map((id) => verifier.verify(batch(id))));
    expect(order).toEqual([1, 2, 3]);
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { hashes: new Uint8Array(32).fill(1) } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { message: 'bad batch' } });
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: { hashes: new Uint8Array(32).fill(3) } });
    expect(verifier.waiting).toBe(0);
  });

  it('verifies a burst in slices of its budget, a whole turn apart', async () => {
    const verifier = slicer(1, 0.6);
    const turns = turnCounter();
    const doneAt: number[] = [];
    await Promise.all(
      [1, 2, 3, 4, 5, 6, 7].map((id) => verifier.verify(batch(id)).then(() => doneAt.push(turns.turn))),
    );
    turns.stop();
    // 0.6 ms each against 1 ms: two per slice (the second reaches the budget), the last alone.
    const slices = [...new Set(doneAt)];
    expect(slices.map((turn) => doneAt.filter((t) => t === turn).length)).toEqual([2, 2, 2, 1]);
    // Between two slices a turn passes with none: the one that writes the slice's nonce script.
    for (let i = 1; i < slices.length; i++) expect(slices[i] - slices[i - 1]).toBeGreaterThanOrEqual(2);
  });

  it('runs a batch larger than the budget whole, one per slice', async () => {
    const verifier = slicer(1, 5);
    const turns = turnCounter();
    const doneAt: number[] = [];
    await Promise.all([1, 2, 3].map((id) => verifier.verify(batch(id)).then(() => doneAt.push(turns.turn))));
    turns.stop();
    expect(new Set(doneAt).size).toBe(3);
  });

  it('lets batches that arrive in the same turn share a slice', async () => {
    const verifier = slicer(10, 1);
    const turns = turnCounter();
    const doneAt: number[] = [];
    await Promise.all(
      [1, 2, 3, 4].map((id) => verifier.verify(batch(id)).then(() => doneAt.push(turns.turn))),
    );
    turns.stop();
    expect(new Set(doneAt).size).toBe(1);
  });
});
