import { lastValidRound } from '#app/ticket';
import type { ChainHead, RoundFacts } from './chain-facts.js';

type RoundHead = Pick<ChainHead, 'l1Block'> & {
  rounds: Pick<ChainHead['rounds'], 'roundLength' | 'currentRoundStartBlock'>;
};

type RoundStateHead = RoundHead & { rounds: Pick<ChainHead['rounds'], 'currentRoundInitialized'> };

/**
 * A head's round facts from what the RoundsManager and BondingManager report at it. The current
 * round is initialized exactly when it is the last initialized one: the RoundsManager's own
 * definition of `currentRoundInitialized`, applied here rather than read.
 */
export function roundFacts(reads: Omit<RoundFacts, 'currentRoundInitialized'>): RoundFacts {
  return { ...reads, currentRoundInitialized: reads.lastInitializedRound === reads.currentRound };
}

/**
 * The first L1 block of the round after the current one, by the current round's schedule. Rounds
 * count in the block number the RoundsManager sees: the L1 block on Arbitrum.
 */
export function nextRoundStartBlock(rounds: RoundHead['rounds']): bigint {
  return rounds.currentRoundStartBlock + rounds.roundLength;
}

/**
 * The last L1 block in which a ticket created in `creationRound` can be redeemed: the last block of
 * its last valid round (TICKETBROKER §4.4), by the current round's schedule; undefined when that
 * round is past.
 */
export function lastRedeemableBlock(
  creationRound: bigint,
  validityPeriod: bigint,
  head: { rounds: RoundHead['rounds'] & Pick<ChainHead['rounds'], 'currentRound'> },
): bigint | undefined {
  const lastRound = lastValidRound(creationRound, validityPeriod);
  const ahead = lastRound - head.rounds.currentRound;
  if (ahead < 0n) return undefined;
  return nextRoundStartBlock(head.rounds) - 1n + ahead * head.rounds.roundLength;
}

/** L1 blocks after `head` still in its round (0 when the head is the round's last block). */
export function blocksLeftInRound(head: RoundHead): bigint {
  return nextRoundStartBlock(head.rounds) - 1n - head.l1Block;
}

/**
 * Whether a tx sent at `head` may be mined in the next round, where every redemption reverts until
 * someone initializes it (the gas is lost): true while fewer than `marginBlocks` L1 blocks of the
 * round are left after the head, i.e. the tx is taken to be mined within that many L1 blocks.
 *
 * Off Arbitrum a tx is mined in head + 1 at the earliest, so 1 covers only the sure case (the head
 * is the round's last block); the head is also up to a poll old and the tx waits for a block, hence
 * a larger margin. On Arbitrum the next L2 blocks usually still carry the head's L1 number, but it
 * may jump several L1 blocks at once. 0 never holds. At most half a round is held (a margin of a
 * whole round or more would hold every tx forever).
 */
export function roundMayEndBeforeMined(head: RoundHead, marginBlocks: number): boolean {
  const { roundLength } = head.rounds;
  const cap = roundLength / 2n;
  const margin = BigInt(marginBlocks) < cap ? BigInt(marginBlocks) : cap;
  return margin > 0n && blocksLeftInRound(head) < margin;
}

/**
 * The first L1 block at which a redemption held for the round (ROUND_ENDING or
 * ROUND_NOT_INITIALIZED at `head`) may go ahead: the round it waits for has started and a keeper
 * can have initialized it. A keeper initializes a round once it sees the round's first block, in
 * a tx mined a block later at the earliest (on Arbitrum it may already carry the same L1 number:
 * waiting one L1 block more costs one block once per round). With the current round initialized
 * (the head is in its last blocks) that is the next round's first block + 1; with it not
 * initialized, the block after the head. A schedule only: whoever wakes then checks its own head.
 */
export function roundWaitTarget(head: RoundStateHead): bigint {
  return head.rounds.currentRoundInitialized ? nextRoundStartBlock(head.rounds) + 1n : head.l1Block + 1n;
}
