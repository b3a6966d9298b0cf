import { describe, expect, it } from 'vitest';
import { defaultRedeemGas, REDEEM_GAS_ARBITRUM, REDEEM_GAS_L1 } from './redeem-gas.js';

describe('defaultRedeemGas', () => {
  it("is go-livepeer's L2 figure on Arbitrum's chains, its L1 figure elsewhere", () => {
    expect(REDEEM_GAS_L1).toBe(350_000n);
    expect(REDEEM_GAS_ARBITRUM).toBe(1_200_000n);
    for (const arbitrum of [42161n, 42170n, 421614n])
      expect(defaultRedeemGas(arbitrum)).toBe(REDEEM_GAS_ARBITRUM);
    for (const other of [1n, 11155111n, 31337n]) expect(defaultRedeemGas(other)).toBe(REDEEM_GAS_L1);
  });
});
