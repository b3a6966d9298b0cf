import { describe, expect, it } from 'vitest';
import { Rational } from '#app/ticket';
import { RecipientErrorCode } from '../recipient.error.js';
import { faceValueFor, txCostMultiplierFor, type FaceValuePolicy } from './face-value.js';

const GWEI = 1_000_000_000n;
const policy: FaceValuePolicy = {
  ev: 8n * GWEI,
  redeemGas: 350_000n,
  txCostMultiplier: 100n,
  maxFaceValue: 0n,
};
const PLENTY = 10n ** 30n;

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('faceValueFor (PROTOCOL.md §5.2)', () => {
  it('is tx cost × multiplier when the float allows it', () => {
    expect(faceValueFor(policy, 2n * GWEI, PLENTY)).toBe(350_000n * 2n * GWEI * 100n);
  });

  it('becomes EV × 100 when the tx-cost face value is below the EV', () => {
    expect(faceValueFor(policy, 0n, PLENTY)).toBe(800n * GWEI);
  });

  it('is capped by the max float, then by the configured maximum', () => {
    expect(faceValueFor(policy, 2n * GWEI, 10n ** 15n)).toBe(10n ** 15n);
    expect(faceValueFor({ ...policy, maxFaceValue: 9n * 10n ** 14n }, 2n * GWEI, 10n ** 15n)).toBe(
      9n * 10n ** 14n,
    );
  });

  it('refuses a face value at or below the EV, or a negative float', () => {
    expect(code(() => faceValueFor(policy, 0n, 8n * GWEI))).toBe(
      RecipientErrorCode.INSUFFICIENT_SENDER_RESERVE,
    );
    expect(code(() => faceValueFor(policy, 0n, -5n))).toBe(RecipientErrorCode.INSUFFICIENT_SENDER_RESERVE);
    expect(faceValueFor(policy, 0n, 8n * GWEI + 1n)).toBe(8n * GWEI + 1n);
  });

  it('refuses a face value below the tx cost unless it covers a redemption at 3 gwei', () => {
    const gasPrice = 100n * GWEI;
    const cost = 350_000n * gasPrice;
    // Below the cost at 100 gwei but above the cost at 3 gwei: tolerated.
    expect(faceValueFor(policy, gasPrice, 350_000n * 4n * GWEI)).toBe(350_000n * 4n * GWEI);
    expect(code(() => faceValueFor(policy, gasPrice, 350_000n * 2n * GWEI))).toBe(
      RecipientErrorCode.INSUFFICIENT_SENDER_RESERVE,
    );
    expect(faceValueFor(policy, gasPrice, cost)).toBe(cost);
  });

  it('gives faceValue / txCost as the tx cost multiplier, 0 without gas price', () => {
    expect(txCostMultiplierFor(policy, 2n * GWEI, PLENTY).equals(Rational.of(100n))).toBe(true);
    expect(txCostMultiplierFor(policy, 2n * GWEI, 350_000n * 2n * GWEI * 10n).equals(Rational.of(10n))).toBe(
      true,
    );
    expect(txCostMultiplierFor(policy, 0n, PLENTY).equals(Rational.ZERO)).toBe(true);
  });
});
