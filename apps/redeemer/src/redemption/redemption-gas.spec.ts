import { describe, expect, it } from 'vitest';
import { GAS_FIGURE_TTL_MS, RedemptionGas, checkLimit, gasAllowance } from './redemption-gas.js';

describe('RedemptionGas', () => {
  const R = '0x00000000000000000000000000000000000000aa';
  const OTHER = '0x00000000000000000000000000000000000000bb';
  const t0 = 1_000_000;

  it('knows no figure until a group was estimated, then the largest estimate, per recipient', () => {
    const gas = new RedemptionGas();
    expect(gas.expected(R, 5n, t0)).toBeUndefined();
    gas.learn(R, 5n, [120_000n, 137_000n, 121_000n], t0);
    expect(gas.expected(R, 5n, t0 + 1)).toBe(137_000n);
    expect(gas.expected(OTHER, 5n, t0 + 1)).toBeUndefined();
  });

  it('only raises a current figure (a ticket that needed more), never lowers it', () => {
    const gas = new RedemptionGas();
    gas.learn(R, 5n, [120_000n], t0);
    gas.learn(R, 5n, [100_000n], t0 + 10);
    expect(gas.expected(R, 5n, t0 + 20)).toBe(120_000n);
    gas.learn(R, 5n, [180_000n], t0 + 30);
    expect(gas.expected(R, 5n, t0 + 40)).toBe(180_000n);
  });

  it('asks for a fresh estimate in a new round, after the TTL, and after forget; a fresh one replaces it', () => {
    const gas = new RedemptionGas();
    gas.learn(R, 5n, [180_000n], t0);
    expect(gas.expected(R, 6n, t0 + 1)).toBeUndefined();
    expect(gas.expected(R, 5n, t0 + GAS_FIGURE_TTL_MS + 1)).toBeUndefined();
    gas.learn(R, 5n, [120_000n], t0 + GAS_FIGURE_TTL_MS + 1);
    expect(gas.expected(R, 5n, t0 + GAS_FIGURE_TTL_MS + 2)).toBe(120_000n);
    gas.forget(R);
    expect(gas.expected(R, 5n, t0 + GAS_FIGURE_TTL_MS + 3)).toBeUndefined();
    gas.learn(R, 5n, [], t0);
    expect(gas.expected(R, 5n, t0)).toBeUndefined();
  });

  it('checks a ticket near the figure and gives it twice the figure in a tx', () => {
    expect(checkLimit(100_000n)).toBe(110_000n);
    // Room for a reserve-paid ticket on a cold round (1.5× a warm deposit-paid one, measured).
    expect(gasAllowance(120_000n)).toBeGreaterThanOrEqual((120_000n * 3n) / 2n);
    expect(gasAllowance(120_000n)).toBe(240_000n);
  });
});
