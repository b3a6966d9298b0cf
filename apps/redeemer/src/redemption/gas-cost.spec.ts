import { describe, expect, it } from 'vitest';
import { gasCostWait } from './gas-cost.js';
import { RedemptionCode } from './redemption-code.js';

const limits = { maxGasPrice: 100n, maxCostRatio: { num: 2n, den: 10n } };

describe('gasCostWait', () => {
  it('holds a ticket while the gas price is above the cap, and never without one', () => {
    expect(gasCostWait(limits, 101n)).toMatchObject({ code: RedemptionCode.GAS_PRICE_TOO_HIGH });
    expect(gasCostWait(limits, 100n)).toBeNull();
    expect(gasCostWait({ ...limits, maxGasPrice: 0n }, 10n ** 30n)).toBeNull();
  });

  it('holds a ticket whose redemption costs more than faceValue × ratio, exactly at the bound', () => {
    // 1,000 gas × 100 wei = 100,000 = 500,000 × 0.2: allowed; one wei more is not.
    expect(gasCostWait(limits, 100n, { gas: 1_000n, faceValue: 500_000n, lastRound: false })).toBeNull();
    expect(gasCostWait(limits, 100n, { gas: 1_000n, faceValue: 499_999n, lastRound: false })).toMatchObject({
      kind: 'wait',
      code: RedemptionCode.TX_COST_TOO_HIGH,
    });
    // The price cap is stated first.
    expect(gasCostWait(limits, 101n, { gas: 1_000n, faceValue: 0n, lastRound: true })).toMatchObject({
      code: RedemptionCode.GAS_PRICE_TOO_HIGH,
    });
  });

  it("in the ticket's last valid round, holds only a redemption that costs more than the ticket pays", () => {
    const at = (faceValue: bigint) => gasCostWait(limits, 100n, { gas: 1_000n, faceValue, lastRound: true });
    expect(at(100_000n)).toBeNull();
    expect(at(99_999n)).toMatchObject({ kind: 'wait', code: RedemptionCode.TX_COST_TOO_HIGH });
    // A ratio the operator set above 1 stays.
    const loose = { ...limits, maxCostRatio: { num: 3n, den: 1n } };
    expect(gasCostWait(loose, 100n, { gas: 1_000n, faceValue: 40_000n, lastRound: true })).toBeNull();
  });
});
