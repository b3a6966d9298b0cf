import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  TicketCheckStatus,
  availableBackends,
  bytesToHex,
  packTicketBatch,
  statusFault,
  recoverInThread,
  verifyPackedBatch,
  verifyPackedBatches,
  SignatureFault,
  type PackedTicketBatch,
} from '#app/ticket';
import { concatBatchChecks, slicePackedBatch } from './batch-verifier.js';
import { validBatch } from '../test/fixtures.js';

function packed(nonces: number[]): PackedTicketBatch {
  const { batch, recipientRand } = validBatch({ nonces, winProb: 1n << 255n });
  const template = { ...batch.params, ...batch.expirationParams, sender: batch.sender };
  const senderParams = batch.senderParams.map((p, i) => (i === 1 ? { ...p, sig: p.sig.subarray(0, 64) } : p));
  return packTicketBatch(template, recipientRand, senderParams);
}

describe('batch verification', () => {
  const batch = packed([1, 2, 3, 4, 5, 6]);

  it('gives the same verdicts with every backend', () => {
    const results = availableBackends().map((backend) => verifyPackedBatch(batch, backend));
    for (const r of results) {
      expect(r.status[1]).toBe(TicketCheckStatus.BAD_LENGTH);
      expect(statusFault(r.status[1])).toBe(SignatureFault.LENGTH);
      expect(bytesToHex(r.hashes)).toBe(bytesToHex(results[0].hashes));
      expect([...r.status]).toEqual([...results[0].status]);
    }
    expect([...results[0].status].filter((s) => statusFault(s) === null)).toHaveLength(5);
  });

  it('splits and joins without changing any result', () => {
    const backend = availableBackends()[0];
    const whole = verifyPackedBatch(batch, backend);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), (cut) => {
        const parts = [slicePackedBatch(batch, 0, cut), slicePackedBatch(batch, cut, 6)].map((b) =>
          verifyPackedBatch(b, backend),
        );
        const joined = concatBatchChecks(parts);
        expect(bytesToHex(joined.hashes)).toBe(bytesToHex(whole.hashes));
        expect([...joined.status]).toEqual([...whole.status]);
      }),
    );
  });

  it('verifies several batches as one set of recoveries exactly as each alone', () => {
    const backend = availableBackends()[0];
    const others = [packed([7]), packed([8, 9, 10]), packed([11])];
    const sets: number[] = [];
    const together = verifyPackedBatches([batch, ...others], (jobs) => {
      sets.push(jobs.count);
      return recoverInThread(backend)(jobs);
    });
    // One set; the 64-byte signature of each multi-ticket batch is refused on its format, not recovered.
    expect(sets).toEqual([1 * 5 + 1 + 2 + 1]);
    [batch, ...others].forEach((b, i) => {
      const alone = verifyPackedBatch(b, backend);
      expect(bytesToHex(together[i].hashes)).toBe(bytesToHex(alone.hashes));
      expect([...together[i].status]).toEqual([...alone.status]);
    });
    expect(verifyPackedBatches([], recoverInThread(backend))).toEqual([]);
  });

  it('refuses nonces a Uint32Array would silently wrap', () => {
    const { batch: b, recipientRand } = validBatch({ nonces: [1] });
    const template = { ...b.params, ...b.expirationParams, sender: b.sender };
    expect(() =>
      packTicketBatch(template, recipientRand, [{ senderNonce: 2 ** 32, sig: new Uint8Array(65) }]),
    ).toThrow('senderNonce must be a uint32');
  });
});
