import { describe, expect, it } from 'vitest';
import { MiningDelays, miningDelay } from './mining-delays.js';

const tx = (judgedL1Block: bigint, minedL1Block: bigint) => ({ judgedL1Block, minedL1Block });

describe('miningDelay', () => {
  it('counts the L1 blocks from the judged head to the mined block', () => {
    expect(miningDelay(tx(100n, 101n))).toBe(1);
    expect(miningDelay(tx(100n, 106n))).toBe(6);
  });

  it('counts a block mined at or below the judged head (same L1 block on Arbitrum) as 0', () => {
    expect(miningDelay(tx(100n, 100n))).toBe(0);
    expect(miningDelay(tx(100n, 99n))).toBe(0);
  });
});

describe('MiningDelays', () => {
  it('knows no delay before a tx was mined', () => {
    const d = new MiningDelays();
    expect(d.largest()).toBe(0);
    expect(d.size).toBe(0);
  });

  it('returns each mined tx its delay and keeps the largest', () => {
    const d = new MiningDelays();
    expect(d.mined(tx(100n, 101n))).toBe(1);
    expect(d.mined(tx(101n, 106n))).toBe(5);
    expect(d.mined(tx(102n, 104n))).toBe(2);
    expect(d.mined(tx(103n, 103n))).toBe(0);
    expect(d.largest()).toBe(5);
  });

  it('forgets delays older than the last `keep` mined txs', () => {
    const d = new MiningDelays(3);
    d.mined(tx(0n, 9n));
    d.mined(tx(0n, 1n));
    d.mined(tx(0n, 2n));
    expect(d.largest()).toBe(9);
    d.mined(tx(0n, 1n));
    expect(d.largest()).toBe(2);
    expect(d.size).toBe(3);
  });

  it('is seeded from stored txs, oldest first, as if they had been mined in that order', () => {
    const seeded = MiningDelays.of([tx(0n, 9n), tx(0n, 1n), tx(0n, 2n), tx(0n, 1n)], 3);
    expect(seeded.size).toBe(3);
    expect(seeded.largest()).toBe(2);
    // The seed is the window a live feed would have kept: the next mined tx pushes out the oldest.
    seeded.mined(tx(0n, 0n));
    seeded.mined(tx(0n, 0n));
    expect(seeded.largest()).toBe(1);
    expect(MiningDelays.of([]).largest()).toBe(0);
  });
});
