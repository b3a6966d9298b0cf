import { describe, expect, it } from 'vitest';
import { faceValueFor, txCostMultiplierOf, type FaceValuePolicy } from './face-value.js';
import { Rational } from './rational.js';

const GWEI = 1_000_000_000n;
const policy: FaceValuePolicy = {
  ev: 8n * GWEI,
  redeemGas: 350_000n,
  txCostMultiplier: 100n,
  maxFaceValue: 0n,
};
const PLENTY = 10n ** 30n;

/** The face value, or `refused` with the reason. */
function faceValue(p: FaceValuePolicy, gasPrice: bigint, maxFloat: bigint): bigint | string {
  const outcome = faceValueFor(p, gasPrice, maxFloat);
  return outcome.ok ? outcome.faceValue : `refused: ${outcome.reason}`;
}

describe('faceValueFor (PROTOCOL.md §5.2)', () => {
  it('is tx cost × multiplier when the float allows it', () => {
    expect(faceValue(policy, 2n * GWEI, PLENTY)).toBe(350_000n * 2n * GWEI * 100n);
  });

  it('becomes EV × 100 when the tx-cost face value is below the EV', () => {
    expect(faceValue(policy, 0n, PLENTY)).toBe(800n * GWEI);
  });

  it('is capped by the max float, then by the configured maximum', () => {
    expect(faceValue(policy, 2n * GWEI, 10n ** 15n)).toBe(10n ** 15n);
    expect(faceValue({ ...policy, maxFaceValue: 9n * 10n ** 14n }, 2n * GWEI, 10n ** 15n)).toBe(
      9n * 10n ** 14n,
    );
  });

  it('refuses a face value at or below the EV, or a negative float', () => {
    expect(faceValue(policy, 0n, 8n * GWEI)).toBe(
      `refused: faceValue=${8n * GWEI} is not above ticketEV=${8n * GWEI} (maxFloat=${8n * GWEI})`,
    );
    expect(faceValue(policy, 0n, -5n)).toBe(
      `refused: faceValue=0 is not above ticketEV=${8n * GWEI} (maxFloat=-5)`,
    );
    expect(faceValue(policy, 0n, 8n * GWEI + 1n)).toBe(8n * GWEI + 1n);
  });

  it('refuses a face value below the tx cost unless it covers a redemption at 3 gwei', () => {
    const gasPrice = 100n * GWEI;
    const cost = 350_000n * gasPrice;
    // Below the cost at 100 gwei but above the cost at 3 gwei: tolerated.
    expect(faceValue(policy, gasPrice, 350_000n * 4n * GWEI)).toBe(350_000n * 4n * GWEI);
    expect(faceValue(policy, gasPrice, 350_000n * 2n * GWEI)).toBe(
      `refused: faceValue=${350_000n * 2n * GWEI} is below the redemption cost ${cost}`,
    );
    expect(faceValue(policy, gasPrice, cost)).toBe(cost);
  });
});

describe('txCostMultiplierOf (§5.3)', () => {
  it('gives faceValue / txCost, 0 without gas price', () => {
    expect(txCostMultiplierOf(policy, 2n * GWEI, 350_000n * 2n * GWEI * 100n).equals(Rational.of(100n))).toBe(
      true,
    );
    expect(txCostMultiplierOf(policy, 2n * GWEI, 350_000n * 2n * GWEI * 10n).equals(Rational.of(10n))).toBe(
      true,
    );
    expect(txCostMultiplierOf(policy, 0n, PLENTY).equals(Rational.ZERO)).toBe(true);
  });
});
