import { describe, expect, it } from 'vitest';
import { BlockPace } from './block-pace.js';

describe('BlockPace', () => {
  it('knows nothing before two L1 blocks were seen', () => {
    const pace = new BlockPace();
    expect(pace.msUntil(10n, 0)).toBeUndefined();
    pace.observe(5n, 1_000);
    expect(pace.blockMs).toBeUndefined();
    expect(pace.msUntil(10n, 1_000)).toBeUndefined();
  });

  it('times a block from the last one seen advancing, a quarter block late', () => {
    const pace = new BlockPace();
    pace.observe(100n, 0);
    pace.observe(102n, 24_000);
    expect(pace.blockMs).toBe(12_000);
    // Block 105: three blocks after 102 (seen at 24 s), plus a quarter block, asked at 30 s.
    expect(pace.msUntil(105n, 30_000)).toBe(24_000 + 3.25 * 12_000 - 30_000);
    // A block already seen is due at once; one not seen yet may be overdue.
    expect(pace.msUntil(101n, 30_000)).toBe(0);
    expect(pace.msUntil(102n, 30_000)).toBe(0);
    expect(pace.msUntil(103n, 60_000)).toBe(24_000 + 1.25 * 12_000 - 60_000);
  });

  it('ignores heads that did not advance, and averages the intervals', () => {
    const pace = new BlockPace();
    pace.observe(1n, 0);
    pace.observe(2n, 1_000);
    pace.observe(2n, 5_000);
    pace.observe(1n, 6_000);
    expect(pace.blockMs).toBe(1_000);
    pace.observe(3n, 3_000);
    // 0.8 × 1000 + 0.2 × 2000
    expect(pace.blockMs).toBe(1_200);
  });

  it('damps a long spell without heads (no more than twice the pace so far per sample)', () => {
    const pace = new BlockPace();
    pace.observe(1n, 0);
    pace.observe(2n, 1_000);
    pace.observe(3n, 601_000);
    expect(pace.blockMs).toBe(0.8 * 1_000 + 0.2 * 2_000);
  });
});
