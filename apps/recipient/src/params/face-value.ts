import { Rational } from '#app/ticket';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';

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

/** Cost of one redemption at `gasPrice`. */
export function txCost(policy: FaceValuePolicy, gasPrice: bigint): bigint {
  return policy.redeemGas * gasPrice;
}

function insufficientReserve(detail: string): RecipientError {
  return new RecipientError(
    RecipientErrorCode.INSUFFICIENT_SENDER_RESERVE,
    `insufficient sender reserve: ${detail}`,
  );
}

/**
 * go-livepeer's `faceValue(sender)` (PROTOCOL.md §5.2 step 2): tx cost × multiplier, raised to
 * EV × 100 when below the EV, capped by the sender's max float and the configured maximum. A
 * face value the sender cannot back is refused with INSUFFICIENT_SENDER_RESERVE.
 *
 * One deliberate difference: a face value equal to the EV is refused too. go-livepeer issues it
 * with winProb = MAX, which every sender then rejects as "ticket faceValue too low" (§14.11).
 */
export function faceValueFor(policy: FaceValuePolicy, gasPrice: bigint, maxFloat: bigint): bigint {
  const cost = txCost(policy, gasPrice);
  let faceValue = cost * policy.txCostMultiplier;
  if (faceValue < policy.ev) faceValue = policy.ev * EV_MULTIPLIER;
  const float = maxFloat > 0n ? maxFloat : 0n;
  if (faceValue > float) faceValue = float;
  if (policy.maxFaceValue > 0n && faceValue > policy.maxFaceValue) faceValue = policy.maxFaceValue;
  if (faceValue <= policy.ev) {
    throw insufficientReserve(
      `faceValue=${faceValue} is not above ticketEV=${policy.ev} (maxFloat=${maxFloat})`,
    );
  }
  if (faceValue < cost && faceValue < policy.redeemGas * AVG_GAS_PRICE_WEI) {
    throw insufficientReserve(`faceValue=${faceValue} is below the redemption cost ${cost}`);
  }
  return faceValue;
}

/** faceValue / txCost (§5.3), 0 when the tx cost is 0. Errors as `faceValueFor`. */
export function txCostMultiplierFor(policy: FaceValuePolicy, gasPrice: bigint, maxFloat: bigint): Rational {
  const cost = txCost(policy, gasPrice);
  const faceValue = faceValueFor(policy, gasPrice, maxFloat);
  return cost > 0n ? Rational.of(faceValue, cost) : Rational.ZERO;
}
