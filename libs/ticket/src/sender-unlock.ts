import type { SenderInfo } from './types.js';

/**
 * go-livepeer refuses a sender whose unlock completes within a round: `withdrawRound ≠ 0 and
 * withdrawRound ≤ lastInitializedRound + 1` (§7.3 step 8, §8.3). The deposit could be withdrawn
 * before a winning ticket is redeemed.
 */
export function isUnlockingSoon(
  info: Pick<SenderInfo, 'withdrawRound'>,
  lastInitializedRound: bigint,
): boolean {
  return info.withdrawRound !== 0n && info.withdrawRound <= lastInitializedRound + 1n;
}
