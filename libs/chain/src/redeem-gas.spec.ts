import { describe, expect, it } from 'vitest';
import { chainKindOf } from './chain-kind.js';
import { defaultRedeemGas, REDEEM_GAS_ARBITRUM, REDEEM_GAS_L1 } from './redeem-gas.js';

describe('defaultRedeemGas', () => {
  it("is go-livepeer's L2 figure on an Arbitrum chain, its L1 figure elsewhere", () => {
    expect(REDEEM_GAS_L1).toBe(350_000n);
    expect(REDEEM_GAS_ARBITRUM).toBe(1_200_000n);
    expect(defaultRedeemGas(chainKindOf({ l1BlockNumber: '0x10' }))).toBe(REDEEM_GAS_ARBITRUM);
    expect(defaultRedeemGas(chainKindOf({}))).toBe(REDEEM_GAS_L1);
  });
});
