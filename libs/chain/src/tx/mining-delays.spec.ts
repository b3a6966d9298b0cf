import { describe, expect, it } from 'vitest';
import { MiningDelays } from './mining-delays.js';

describe('MiningDelays', () => {
  it('knows no delay before a tx was mined', () => {
    expect(new MiningDelays().largest()).toBe(0);
  });

  it('takes the delay from the judged head to the mined L1 block, and keeps the largest', () => {
    const d = new MiningDelays();
    d.sent('a', 100n);
    d.sent('b', 101n);
    d.sent('c', 102n);
    expect(d.mined('a', 101n)).toBe(1);
    expect(d.mined('b', 106n)).toBe(5);
    expect(d.mined('c', 104n)).toBe(2);
    expect(d.largest()).toBe(5);
  });

  it('learns nothing from a tx it did not see sent, a dropped one, or the same tx twice', () => {
    const d = new MiningDelays();
    expect(d.mined('before-restart', 500n)).toBeUndefined();
    d.sent('dropped', 10n);
    d.forget('dropped');
    expect(d.follows('dropped')).toBe(false);
    expect(d.mined('dropped', 30n)).toBeUndefined();
    d.sent('x', 10n);
    expect(d.mined('x', 12n)).toBe(2);
    expect(d.mined('x', 40n)).toBeUndefined();
    expect(d.largest()).toBe(2);
  });

  it('counts a block mined at or below the judged head (same L1 block on Arbitrum) as 0', () => {
    const d = new MiningDelays();
    d.sent('a', 100n);
    d.sent('b', 100n);
    expect(d.mined('a', 100n)).toBe(0);
    expect(d.mined('b', 99n)).toBe(0);
    expect(d.largest()).toBe(0);
  });

  it('forgets delays older than the last `keep` mined txs', () => {
    const d = new MiningDelays(3);
    const mine = (id: string, delay: bigint) => {
      d.sent(id, 0n);
      d.mined(id, delay);
    };
    mine('slow', 9n);
    mine('a', 1n);
    mine('b', 2n);
    expect(d.largest()).toBe(9);
    mine('c', 1n);
    expect(d.largest()).toBe(2);
  });
});
