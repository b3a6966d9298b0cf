import { describe, expect, it } from 'vitest';
import { bumpFees, type FeeQuote } from './fees.js';

const gwei = (n: number) => BigInt(n) * 1_000_000_000n;
const eip1559 = (maxFee: number, tip: number): FeeQuote => ({
  type: 2,
  maxFeePerGas: gwei(maxFee),
  maxPriorityFeePerGas: gwei(tip),
});

describe('bumpFees', () => {
  it('raises both fields by the bump, or to the market when that is higher', () => {
    expect(bumpFees(eip1559(10, 1), eip1559(5, 1), 20, 0n)).toEqual({
      type: 2,
      maxFeePerGas: gwei(12),
      maxPriorityFeePerGas: 1_200_000_000n,
    });
  });

  it('follows a market that moved above the bump', () => {
    expect(bumpFees(eip1559(10, 1), eip1559(50, 3), 20, 0n)).toEqual(eip1559(50, 3));
  });

  it('never bumps by less than the 10% nodes require', () => {
    const bumped = bumpFees(eip1559(10, 2), eip1559(1, 1), 1, 0n);
    expect(bumped).toEqual({ type: 2, maxFeePerGas: gwei(11), maxPriorityFeePerGas: (gwei(2) * 11n) / 10n });
  });

  it('respects the gas price cap, and gives up when the cap leaves no valid replacement', () => {
    expect(bumpFees(eip1559(10, 1), eip1559(50, 1), 20, gwei(12))).toMatchObject({ maxFeePerGas: gwei(12) });
    expect(bumpFees(eip1559(10, 1), eip1559(50, 1), 20, gwei(10))).toBeNull();
  });

  it('bumps legacy gas prices', () => {
    expect(bumpFees({ type: 0, gasPrice: gwei(10) }, { type: 0, gasPrice: gwei(1) }, 25, 0n)).toEqual({
      type: 0,
      gasPrice: (gwei(10) * 125n) / 100n,
    });
  });
});
