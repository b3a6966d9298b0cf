/** Mined txs whose delays are remembered: "recent" for the round-end margin. */
export const RECENT_MINED_TXS = 128;

/**
 * Where one tx's mining delay is counted from and to, both in L1 blocks as the head source reads
 * them: the head it was judged at (the last head its sender checked before sending) and the block
 * that mined it.
 */
export interface MinedL1Blocks {
  judgedL1Block: bigint;
  minedL1Block: bigint;
}

/**
 * The delay of one mined tx, in L1 blocks; never below 0 (a head source read ahead of the
 * receipt's node, or the same L1 block on Arbitrum).
 */
export function miningDelay(tx: MinedL1Blocks): number {
  return tx.minedL1Block > tx.judgedL1Block ? Number(tx.minedL1Block - tx.judgedL1Block) : 0;
}

/**
 * How many L1 blocks this signer's recent txs took from the head they were judged at to the
 * block that mined them: the round-end margin learns from it, since a tx judged within that many
 * blocks of a round's end may be mined in the next round. State only (no I/O): the owner feeds
 * each mined tx, and seeds it from the stored txs at boot (`of`), so a restart keeps what was learned.
 */
export class MiningDelays {
  /** Delays of the last mined txs, oldest first (at most `keep`). */
  private readonly recent: number[] = [];

  constructor(private readonly keep = RECENT_MINED_TXS) {}

  /** Delays of `txs` (oldest first), of which the last `keep` are remembered. */
  static of(txs: readonly MinedL1Blocks[], keep = RECENT_MINED_TXS): MiningDelays {
    const delays = new MiningDelays(keep);
    for (const tx of txs.slice(-keep)) delays.mined(tx);
    return delays;
  }

  /** A tx was mined: remembers its delay (the oldest one beyond `keep` is forgotten) and returns it. */
  mined(tx: MinedL1Blocks): number {
    const delay = miningDelay(tx);
    this.recent.push(delay);
    if (this.recent.length > this.keep) this.recent.shift();
    return delay;
  }

  /** Mined txs remembered (at most `keep`). */
  get size(): number {
    return this.recent.length;
  }

  /** The largest delay among the recent mined txs; 0 before any. */
  largest(): number {
    let max = 0;
    for (const d of this.recent) if (d > max) max = d;
    return max;
  }
}
