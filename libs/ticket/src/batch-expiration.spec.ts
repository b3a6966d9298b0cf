import { describe, expect, it } from 'vitest';
import { batchExpirationParams } from './batch-expiration.js';
import type { TicketParams } from './types.js';

const PARAMS: TicketParams = {
  recipient: new Uint8Array(20).fill(1),
  faceValue: 1000n,
  winProb: 5n,
  recipientRandHash: new Uint8Array(32).fill(2),
  seed: 3n,
  expirationBlock: 100n,
};

describe('batchExpirationParams', () => {
  const own = { lastInitializedRound: 7n, lastInitializedBlockHash: `0x${'ab'.repeat(32)}` };
  it("uses O's values when round and hash are both set", () => {
    const fromO = { creationRound: 5n, creationRoundBlockHash: new Uint8Array(32).fill(9) };
    expect(batchExpirationParams({ ...PARAMS, expirationParams: fromO }, own)).toBe(fromO);
  });
  it("falls back to B's view when O sent none, a zero round or a zero hash", () => {
    const mine = { creationRound: 7n, creationRoundBlockHash: new Uint8Array(32).fill(0xab) };
    expect(batchExpirationParams(PARAMS, own)).toEqual(mine);
    const zeroRound = { creationRound: 0n, creationRoundBlockHash: new Uint8Array(32).fill(9) };
    expect(batchExpirationParams({ ...PARAMS, expirationParams: zeroRound }, own)).toEqual(mine);
    const zeroHash = { creationRound: 5n, creationRoundBlockHash: new Uint8Array(32) };
    expect(batchExpirationParams({ ...PARAMS, expirationParams: zeroHash }, own)).toEqual(mine);
  });
});
