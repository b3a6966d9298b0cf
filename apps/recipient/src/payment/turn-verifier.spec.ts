import { describe, expect, it } from 'vitest';
import type { PackedTicketBatch, TicketBatchChecks } from '#app/ticket';
import { TurnVerifier } from './turn-verifier.js';

/** A batch that names itself by its first nonce, and the checks a fake verification gives it. */
function batch(id: number): PackedTicketBatch {
  return { nonces: Uint32Array.of(id) } as unknown as PackedTicketBatch;
}
function checksOf(b: PackedTicketBatch): TicketBatchChecks {
  return { hashes: new Uint8Array(32).fill(b.nonces[0]), status: Uint8Array.of(0) };
}

describe('TurnVerifier', () => {
  it('verifies the batches of one turn together, at its end, each answered with its own checks', async () => {
    const sets: number[][] = [];
    const verifier = new TurnVerifier((batches) => {
      sets.push(batches.map((b) => b.nonces[0]));
      return batches.map(checksOf);
    });
    const first = [1, 2, 3].map((id) => verifier.verify(batch(id)));
    expect(sets).toEqual([]); // nothing before the turn ends
    const checks = await Promise.all(first);
    expect(checks.map((c) => c.hashes[0])).toEqual([1, 2, 3]);
    // A later turn is a set of its own.
    await verifier.verify(batch(4));
    expect(sets).toEqual([[1, 2, 3], [4]]);
  });

  it('answers the others when one batch is refused, that one with its own error', async () => {
    const verifier = new TurnVerifier((batches) => {
      if (batches.some((b) => b.nonces[0] === 2)) throw new Error('bad batch 2');
      return batches.map(checksOf);
    });
    const results = await Promise.allSettled([1, 2, 3].map((id) => verifier.verify(batch(id))));
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { hashes: new Uint8Array(32).fill(1) } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { message: 'bad batch 2' } });
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: { hashes: new Uint8Array(32).fill(3) } });
  });
});
