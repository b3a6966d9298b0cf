import { usableMaxFloat } from './max-float.js';
import { Rational } from './rational.js';

/** go-livepeer's fallback gas price for the "would a redemption still pay at normal gas" check (§5.2 step 8). */
export const AVG_GAS_PRICE_WEI = 3_000_000_000n;
/** Face value when the tx-cost based one is below the EV: EV × this (go-livepeer evMultiplier). */
export const EV_MULTIPLIER = 100n;

export interface FaceValuePolicy {
  /** Target EV per ticket, wei. */
  ev: bigint;
  redeemGas: bigint;
  txCostMultiplier: bigint;
  /** 0 = no cap. */
  maxFaceValue: bigint;
}

/**
 * A face value, or why the sender cannot back one (go-livepeer's "insufficient sender reserve";
 * `reason` completes that phrase and carries public amounts only).
 */
export type FaceValueOutcome = { ok: true; faceValue: bigint } | { ok: false; reason: string };

/** Cost of one redemption at `gasPrice`. */
export function txCost(policy: FaceValuePolicy, gasPrice: bigint): bigint {
  return policy.redeemGas * gasPrice;
}

/**
 * go-livepeer's `faceValue(sender)` (PROTOCOL.md §5.2 step 2): tx cost × multiplier, raised to
 * EV × 100 when below the EV, capped by the sender's max float (a negative one counts as 0) and
 * the configured maximum. Refused when the result cannot pay for its own redemption.
 *
 * One deliberate difference: a face value equal to the EV is refused too. go-livepeer issues it
 * with winProb = MAX, which every sender then rejects as "ticket faceValue too low" (§14.11).
 */
export function faceValueFor(policy: FaceValuePolicy, gasPrice: bigint, maxFloat: bigint): FaceValueOutcome {
  const cost = txCost(policy, gasPrice);
  let faceValue = cost * policy.txCostMultiplier;
  if (faceValue < policy.ev) faceValue = policy.ev * EV_MULTIPLIER;
  const float = usableMaxFloat(maxFloat);
  if (faceValue > float) faceValue = float;
  if (policy.maxFaceValue > 0n && faceValue > policy.maxFaceValue) faceValue = policy.maxFaceValue;
  if (faceValue <= policy.ev) {
    return {
      ok: false,
      reason: `faceValue=${faceValue} is not above ticketEV=${policy.ev} (maxFloat=${maxFloat})`,
    };
  }
  if (faceValue < cost && faceValue < policy.redeemGas * AVG_GAS_PRICE_WEI) {
    return { ok: false, reason: `faceValue=${faceValue} is below the redemption cost ${cost}` };
  }
  return { ok: true, faceValue };
}

/** faceValue / txCost (§5.3), 0 when the tx cost is 0. */
export function txCostMultiplierOf(policy: FaceValuePolicy, gasPrice: bigint, faceValue: bigint): Rational {
  const cost = txCost(policy, gasPrice);
  return cost > 0n ? Rational.of(faceValue, cost) : Rational.ZERO;
}
