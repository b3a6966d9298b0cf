/** Mined txs whose delays are remembered: "recent" for the round-end margin. */
export const RECENT_MINED_TXS = 128;

/**
 * How many L1 blocks this signer's recent txs took from the head they were judged at (the last
 * head a sender checked before sending) to the L1 block of the block that mined them: the
 * round-end margin learns from it, since a tx judged within that many blocks of a round's end
 * may be mined in the next round. State only (no I/O): the owner records each send's head and,
 * once the tx is final, its mined block's L1 number, both read as the head source reads them.
 */
export class MiningDelays {
  /** Txs sent and not final yet: the L1 block of the head each was judged at. */
  private readonly judgedAt = new Map<string, bigint>();
  /** Delays of the last mined txs, oldest first (at most `keep`). */
  private readonly recent: number[] = [];

  constructor(private readonly keep = RECENT_MINED_TXS) {}

  /** Tx `txId` is sent, judged at a head of L1 block `l1Block`. */
  sent(txId: string, l1Block: bigint): void {
    this.judgedAt.set(txId, l1Block);
  }

  /**
   * Tx `txId` was mined in a block of L1 number `l1Block`: remembers and returns its delay (never
   * below 0: a head source read ahead of the receipt's node), undefined for a tx not sent here
   * (e.g. before a restart).
   */
  mined(txId: string, l1Block: bigint): number | undefined {
    const judged = this.judgedAt.get(txId);
    if (judged === undefined) return undefined;
    this.judgedAt.delete(txId);
    const delay = l1Block > judged ? Number(l1Block - judged) : 0;
    this.recent.push(delay);
    if (this.recent.length > this.keep) this.recent.shift();
    return delay;
  }

  /** Tx `txId` ended without being mined (dropped): nothing to learn. */
  forget(txId: string): void {
    this.judgedAt.delete(txId);
  }

  /** Whether `txId` was sent here and is not final yet: only those are worth a mined-block read. */
  follows(txId: string): boolean {
    return this.judgedAt.has(txId);
  }

  /** The largest delay among the recent mined txs; 0 before any. */
  largest(): number {
    let max = 0;
    for (const d of this.recent) if (d > max) max = d;
    return max;
  }
}
