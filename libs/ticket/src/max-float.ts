import type { SenderInfo } from './types.js';

/**
 * go-livepeer waives the pending deduction while the deposit is at least this many times the
 * pending face value (`minDepositPendingRatio`, PROTOCOL.md §8.1): those tickets will be paid
 * from the deposit and leave the reserve alone.
 */
export const MIN_DEPOSIT_PENDING_RATIO = 3n;

export interface MaxFloatInputs {
  info: SenderInfo;
  /** claimedReserve(sender, recipient) in the current round. */
  claimed: bigint;
  poolSize: bigint;
  /** Only active recipients may claim from a reserve (TICKETBROKER.md §4.6). */
  recipientActive: boolean;
  /** Face value of the sender's tickets to this recipient that are queued or in flight. */
  pending: bigint;
  /** The same over every recipient: all of it draws on the one deposit first. */
  pendingTotal: bigint;
}

/**
 * What the recipient can still claim from the sender's reserve this round: the contract's
 * `claimableReserve` (TICKETBROKER.md §4.6) rebuilt from cached state. The allocation is the
 * reserve as it stood at the round start divided by the pool size, less this recipient's claims;
 * 0 for an inactive recipient or an empty pool, never below 0 (the pool can grow mid-round) and
 * never above the funds left (it can shrink).
 */
export function reserveAllocation(
  i: Pick<MaxFloatInputs, 'info' | 'claimed' | 'poolSize' | 'recipientActive'>,
): bigint {
  if (!i.recipientActive || i.poolSize <= 0n) return 0n;
  const { fundsRemaining, claimedInCurrentRound } = i.info.reserve;
  const allocation = (fundsRemaining + claimedInCurrentRound) / i.poolSize;
  if (allocation <= i.claimed) return 0n;
  const claimable = allocation - i.claimed;
  return claimable < fundsRemaining ? claimable : fundsRemaining;
}

/**
 * Max float (PROTOCOL.md §8.1): the reserve allocation less the pending face value, unless the
 * deposit covers at least 3× everything pending (exact integer comparison where go-livepeer uses
 * a float). The deposit itself is never added. Negative when more is pending than allocated.
 */
export function maxFloat(i: MaxFloatInputs): bigint {
  const allocation = reserveAllocation(i);
  if (i.pending > 0n && i.info.deposit >= MIN_DEPOSIT_PENDING_RATIO * i.pendingTotal) return allocation;
  return allocation - i.pending;
}

/**
 * Max float as it is used and sent: a negative one (more pending than allocated) counts as 0.
 * go-livepeer's wire form drops the sign instead (PROTOCOL.md §8.1), which would claim a float.
 */
export function usableMaxFloat(maxFloat: bigint): bigint {
  return maxFloat > 0n ? maxFloat : 0n;
}
