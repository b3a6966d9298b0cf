import { describe, expect, it } from 'vitest';
import type { PackedTicketBatch, TicketBatchChecks } from '#app/ticket';
import { SLICE_MAX_WAIT_MS, SlicedVerifier } from './sliced-verifier.js';

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

/** Verifies batches `ids` (all queued now) and gives the turn each was answered in, in order of answer. */
async function answerTurns(verifier: SlicedVerifier, ids: number[]): Promise<number[]> {
  const turns = turnCounter();
  const doneAt: number[] = [];
  try {
    await Promise.all(ids.map((id) => verifier.verify(batch(id)).then(() => doneAt.push(turns.turn))));
  } finally {
    turns.stop();
  }
  return doneAt;
}

/** How many answers each slice gave, slice by slice. */
function sliceSizes(doneAt: number[]): number[] {
  return [...new Set(doneAt)].map((turn) => doneAt.filter((t) => t === turn).length);
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
    const doneAt = await answerTurns(slicer(1, 0.6), [1, 2, 3, 4, 5, 6, 7]);
    // 0.6 ms each against 1 ms: two per slice (the second reaches the budget), the last alone.
    expect(sliceSizes(doneAt)).toEqual([2, 2, 2, 1]);
    // Between two slices exactly one turn passes with none: the one that writes the slice's nonce script.
    const slices = [...new Set(doneAt)];
    for (let i = 1; i < slices.length; i++) expect(slices[i] - slices[i - 1]).toBe(2);
  });

  it('runs a batch larger than the budget whole, one per slice', async () => {
    expect(sliceSizes(await answerTurns(slicer(1, 5), [1, 2, 3]))).toEqual([1, 1, 1]);
  });

  it('lets batches that arrive in the same turn share a slice', async () => {
    expect(sliceSizes(await answerTurns(slicer(10, 1), [1, 2, 3, 4]))).toEqual([4]);
  });

  it(`verifies in the next slice, whatever the budget, what has waited ${SLICE_MAX_WAIT_MS} ms`, async () => {
    // 30 ms each: the first slice takes one; by the second, the rest have waited past the bound.
    expect(sliceSizes(await answerTurns(slicer(1, 30), [1, 2, 3, 4, 5]))).toEqual([1, 4]);
  });

  it('takes batches that arrive between slices and after the queue emptied', async () => {
    const verifier = slicer(1, 0.6);
    const first = [1, 2, 3].map((id) => verifier.verify(batch(id)));
    // Queued during the first slice's gap turn: the queue is not empty and a slice is scheduled.
    await new Promise((resolve) => setImmediate(resolve));
    const between = verifier.verify(batch(4));
    expect(verifier.waiting).toBeGreaterThan(0);
    await Promise.all([...first, between]);
    expect(verifier.waiting).toBe(0);
    // Long after: a new slice is scheduled for it.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(verifier.verify(batch(5))).resolves.toMatchObject({ hashes: new Uint8Array(32).fill(5) });
  });
});
