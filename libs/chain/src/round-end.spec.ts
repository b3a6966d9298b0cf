import { describe, expect, it } from 'vitest';
import {
  blocksLeftInRound,
  lastRedeemableBlock,
  roundFacts,
  roundMayEndBeforeMined,
  roundWaitTarget,
} from './round-end.js';

/** A head whose round started at `start` with `length` blocks, at `l1Block` (and L2 `block`). */
const head = (l1Block: bigint, start: bigint, length: bigint, block = l1Block) => ({
  block,
  l1Block,
  rounds: { currentRoundStartBlock: start, roundLength: length },
});

describe('blocksLeftInRound', () => {
  it('counts the blocks after the head that are still in its round', () => {
    expect(blocksLeftInRound(head(100n, 100n, 20n))).toBe(19n);
    expect(blocksLeftInRound(head(118n, 100n, 20n))).toBe(1n);
    expect(blocksLeftInRound(head(119n, 100n, 20n))).toBe(0n);
  });
});

describe('lastRedeemableBlock', () => {
  // Round 10 runs from block 100 to 119; rounds are 20 blocks.
  const at = { rounds: { currentRound: 10n, currentRoundStartBlock: 100n, roundLength: 20n } };
  it("is the last block of the ticket's last valid round (validity 2: the round after its creation)", () => {
    expect(lastRedeemableBlock(9n, 2n, at)).toBe(119n);
    expect(lastRedeemableBlock(10n, 2n, at)).toBe(139n);
    expect(lastRedeemableBlock(10n, 3n, at)).toBe(159n);
  });
  it('is undefined once that round is past', () => {
    expect(lastRedeemableBlock(8n, 2n, at)).toBeUndefined();
  });
});

describe('roundMayEndBeforeMined', () => {
  it('with a margin of 1 holds only in the last block of the round (a tx is mined in the next one)', () => {
    expect(roundMayEndBeforeMined(head(118n, 100n, 20n), 1)).toBe(false);
    expect(roundMayEndBeforeMined(head(119n, 100n, 20n), 1)).toBe(true);
    // The first block of the next round is a new round: room again (its initialization is the gate's).
    expect(roundMayEndBeforeMined(head(120n, 120n, 20n), 1)).toBe(false);
  });

  it('holds the last `margin` blocks of the round', () => {
    const holds = [110n, 116n, 117n, 118n, 119n].map((b) => roundMayEndBeforeMined(head(b, 100n, 20n), 3));
    expect(holds).toEqual([false, false, true, true, true]);
  });

  it('never holds with a margin of 0', () => {
    expect(roundMayEndBeforeMined(head(119n, 100n, 20n), 0)).toBe(false);
  });

  it('counts L1 blocks on Arbitrum, whatever the L2 block number', () => {
    // Mainnet-like: rounds of 5760 L1 blocks; many L2 blocks carry the same L1 number.
    const start = 5760n * 3_500n;
    const last = start + 5759n;
    expect(roundMayEndBeforeMined(head(last - 3n, start, 5760n, 290_000_000n), 3)).toBe(false);
    expect(roundMayEndBeforeMined(head(last - 2n, start, 5760n, 290_000_001n), 3)).toBe(true);
    expect(roundMayEndBeforeMined(head(last - 2n, start, 5760n, 290_000_040n), 3)).toBe(true);
    expect(roundMayEndBeforeMined(head(last + 1n, last + 1n, 5760n, 290_000_050n), 3)).toBe(false);
  });

  it('follows a round length change: the round ends where the new length puts it', () => {
    // setRoundLength applies from the start of the current round (the RoundsManager re-anchors).
    expect(roundMayEndBeforeMined(head(105n, 100n, 20n), 3)).toBe(false);
    expect(roundMayEndBeforeMined(head(105n, 100n, 8n), 3)).toBe(true);
  });

  it('holds at most half a round, so a margin longer than a round cannot hold every tx', () => {
    const holds = [100n, 101n, 102n, 103n].map((b) => roundMayEndBeforeMined(head(b, 100n, 4n), 10));
    expect(holds).toEqual([false, false, true, true]);
    expect(roundMayEndBeforeMined(head(100n, 100n, 1n), 10)).toBe(false);
  });
});

describe('roundWaitTarget', () => {
  const state = (l1Block: bigint, initialized: boolean) => ({
    l1Block,
    rounds: { currentRoundStartBlock: 100n, roundLength: 20n, currentRoundInitialized: initialized },
  });

  it('wakes a ticket held at the end of an initialized round one block after the next round starts', () => {
    expect(roundWaitTarget(state(117n, true))).toBe(121n);
    expect(roundWaitTarget(state(119n, true))).toBe(121n);
  });

  it('wakes a ticket waiting for the current round to be initialized at the next block', () => {
    expect(roundWaitTarget(state(100n, false))).toBe(101n);
    expect(roundWaitTarget(state(104n, false))).toBe(105n);
  });
});

describe('roundFacts', () => {
  const reads = {
    currentRound: 7n,
    lastInitializedRound: 7n,
    lastInitializedBlockHash: `0x${'ab'.repeat(32)}`,
    poolSize: 100n,
    roundLength: 20n,
    currentRoundStartBlock: 140n,
  };

  it('takes the current round as initialized exactly when it is the last initialized one', () => {
    expect(roundFacts(reads)).toEqual({ ...reads, currentRoundInitialized: true });
    expect(roundFacts({ ...reads, currentRound: 8n }).currentRoundInitialized).toBe(false);
  });

  it('derives it again over facts that carried another answer (a NewRound applied to known facts)', () => {
    const stale = { ...roundFacts({ ...reads, currentRound: 8n }), lastInitializedRound: 8n };
    expect(stale.currentRoundInitialized).toBe(false);
    expect(roundFacts(stale).currentRoundInitialized).toBe(true);
  });
});
