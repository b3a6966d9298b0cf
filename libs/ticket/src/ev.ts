import { MAX_WIN_PROB } from './constants.js';
import { assertUint256 } from './bytes.js';
import { invalidInput } from './errors.js';
import { Rational } from './rational.js';

/** winProb / (2^256 − 1) as an exact rational. */
export function winProbRat(winProb: bigint): Rational {
  assertUint256(winProb, 'winProb');
  return Rational.of(winProb, MAX_WIN_PROB);
}

/**
 * The last EV computed: a recipient sees the same (faceValue, winProb) payment after payment, and
 * reducing by 2^256 − 1 (a long Euclid: its odd part is the whole number) is not free.
 */
let lastEV: { faceValue: bigint; winProb: bigint; ev: Rational } | undefined;

/** Expected value faceValue × winProb / (2^256 − 1), exact and in lowest terms (go-livepeer's `Ticket.EV`). */
export function ticketEV(faceValue: bigint, winProb: bigint): Rational {
  if (lastEV?.faceValue === faceValue && lastEV.winProb === winProb) return lastEV.ev;
  assertUint256(faceValue, 'faceValue');
  assertUint256(winProb, 'winProb');
  const ev = Rational.of(faceValue * winProb, MAX_WIN_PROB);
  lastEV = { faceValue, winProb, ev };
  return ev;
}

/**
 * O's winProb for a target EV (§5.2 step 4): 0 for a zero face value, MAX when faceValue equals
 * the EV, otherwise EV × ⌈MAX / faceValue⌉ so the real EV is never below the target. For face
 * values near 2^256 that product can pass MAX, which go-livepeer would emit as an unencodable
 * uint256; it is clamped to MAX here (an EV equal to the face value, as in the equal case).
 */
export function winProbForEV(ev: bigint, faceValue: bigint): bigint {
  assertUint256(ev, 'ev');
  assertUint256(faceValue, 'faceValue');
  if (faceValue === 0n) return 0n;
  if (faceValue === ev) return MAX_WIN_PROB;
  // go-livepeer never gets here with ev > faceValue (it refuses such params first); the product
  // could then exceed 2^256 − 1.
  if (ev > faceValue) throw invalidInput('ev must not exceed faceValue');
  const q = MAX_WIN_PROB / faceValue;
  const winProb = MAX_WIN_PROB % faceValue === 0n ? ev * q : ev * (q + 1n);
  return winProb > MAX_WIN_PROB ? MAX_WIN_PROB : winProb;
}
