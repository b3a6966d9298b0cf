/** Weight of the newest block interval in the pace (an exponential moving average). */
const PACE_WEIGHT = 0.2;

/**
 * How fast L1 blocks (the blocks params expire against) are seen by this process, learned from
 * its heads: the one owner of block timing. The process's head source (RpcChainFacts, or the
 * ChainWatcher) feeds it every head it reads; the Redeemer asks it how long a ticket waits for
 * its params to expire, the intake how long a new redemption job is delayed. An estimate only:
 * whoever acts on it checks the chain again.
 */
export class BlockPace {
  /** The last L1 block seen advancing, and when. */
  private last?: { block: bigint; at: number };
  private msPerBlock?: number;

  /** A head was read at `at` (ms since the epoch) with L1 block `l1Block`. */
  observe(l1Block: bigint, at = Date.now()): void {
    const last = this.last;
    if (last && l1Block <= last.block) return;
    if (last) {
      const sample = (at - last.at) / Number(l1Block - last.block);
      // A spell without head reads (RPC down) would look like slow blocks: damp it.
      this.msPerBlock =
        this.msPerBlock === undefined
          ? sample
          : (1 - PACE_WEIGHT) * this.msPerBlock + PACE_WEIGHT * Math.min(sample, 2 * this.msPerBlock);
    }
    this.last = { block: l1Block, at };
  }

  /** The average ms per L1 block so far; undefined before two blocks were seen. */
  get blockMs(): number | undefined {
    return this.msPerBlock;
  }

  /**
   * About how long until L1 block `target` is seen here, plus a quarter block so that a check
   * then usually finds it: undefined before two blocks were seen, 0 for a block seen already, and
   * ≤ 0 when it is overdue.
   */
  msUntil(target: bigint, now = Date.now()): number | undefined {
    if (this.msPerBlock === undefined || !this.last) return undefined;
    if (target <= this.last.block) return 0;
    return this.last.at + (Number(target - this.last.block) + 0.25) * this.msPerBlock - now;
  }
}
