import { Injectable } from '@nestjs/common';
import type { TransactionReceipt } from 'ethers';
import { isRedemptionTx, type ChainTxRecord } from '#app/chain';

/** The signer's txs as the TxManager follows them (TxManager satisfies it). */
export interface UnminedView {
  /** Pending txs not mined as of the last read of the chain's count. */
  unmined(): readonly Pick<ChainTxRecord, 'gasLimit'>[];
  /** Reads that count again. */
  refreshMined(): Promise<void>;
}

/** Mined redemption txs the use of a gas limit is learned from. */
const RECENT_TXS = 64;
/** How often a group waiting for block space looks again (after reading the mined count again). */
const ROOM_POLL_MS = 100;

/**
 * Keeps the Redeemer's txs out of the node's mempool while the chain cannot take them: a group's
 * txs are claimed and sent only while this signer's txs not yet mined are expected to use less
 * than one block takes of them (blockTakes; so the next block can still take more, and what waits
 * is at most that plus one tx: admits). Otherwise, when winners come faster than blocks take them, a backlog many blocks deep
 * builds up where nothing can be re-ordered or held: its txs cross the round's end and revert,
 * each tx's wait teaches the round-end margin a larger delay, and tickets expire queued behind
 * younger ones. Held here instead, tickets stay queued, are funded and checked against the round's
 * end at the latest head when they go, in the order they came (least time left first).
 *
 * Expected use is a gas limit times what mined redemption txs recently used of theirs (each
 * ticket's allowance is a single redemption's gas doubled, and a batch shares the tx's fixed
 * costs, so a batch uses a third to a quarter of its limit); the whole limit until one is mined.
 * On a chain whose blocks are far larger than what one signer sends (an L2), it never holds
 * anything.
 */
@Injectable()
export class BlockSpace {
  private recent: { used: bigint; limit: bigint }[] = [];
  /** Gas limits of groups let through whose txs the TxManager may not follow yet. */
  private sending = 0n;

  /**
   * A tx of the signer is final (TxManager's `finished`): a mined redemption tx teaches its use. A
   * reverted one does not (it stopped early: learning its small use would let more txs out).
   */
  finished(record: ChainTxRecord, receipt: TransactionReceipt | null): void {
    if (receipt?.status !== 1 || !isRedemptionTx(record.purpose) || record.gasLimit <= 0n) return;
    this.recent.push({ used: receipt.gasUsed, limit: record.gasLimit });
    if (this.recent.length > RECENT_TXS) this.recent.shift();
  }

  /** Whether a group may go out now (see the class), with `unmined` the signer's txs not mined yet. */
  hasRoom(blockGasLimit: bigint, unmined: readonly Pick<ChainTxRecord, 'gasLimit'>[]): boolean {
    const { waiting, largest } = this.waiting(unmined);
    return this.expectedUse(waiting) < this.blockTakes(blockGasLimit, largest);
  }

  /**
   * How many of a group's txs (their gas limits, in the order they would go) may go now: the
   * first, then each while what waits before it is expected to use less than a block takes. So
   * what waits exceeds that by one tx at most, not by a whole group (up to REDEEMER_BATCH_MAX_SIZE
   * tickets: 9 txs of 11M expected use at 30M blocks); the rest go as blocks make room.
   */
  admits(
    blockGasLimit: bigint,
    unmined: readonly Pick<ChainTxRecord, 'gasLimit'>[],
    txLimits: readonly bigint[],
  ): number {
    let { waiting, largest } = this.waiting(unmined);
    let n = 0;
    for (const limit of txLimits) {
      if (limit > largest) largest = limit;
      if (n > 0 && this.expectedUse(waiting) >= this.blockTakes(blockGasLimit, largest)) break;
      waiting += limit;
      n++;
    }
    return n;
  }

  /** The gas limits waiting to be mined (unmined and reserved), and the largest unmined one. */
  private waiting(unmined: readonly Pick<ChainTxRecord, 'gasLimit'>[]): { waiting: bigint; largest: bigint } {
    let waiting = this.sending;
    let largest = 0n;
    for (const r of unmined) {
      waiting += r.gasLimit;
      if (r.gasLimit > largest) largest = r.gasLimit;
    }
    return { waiting, largest };
  }

  /**
   * About how much of this signer's expected use one block takes: a builder adds a tx only while
   * the gas used so far plus the tx's whole limit fit (geth's gas pool, anvil), so the last tx of
   * a block needs its limit of room, not its use. Holding more than that unmined leaves part of a
   * nonce chain behind each block: anvil then mined the next block with only the few txs it still
   * counted ready (4–9M gas after each 25M block under a backlog).
   */
  private blockTakes(blockGasLimit: bigint, largestLimit: bigint): bigint {
    return blockGasLimit - (largestLimit - this.expectedUse(largestLimit));
  }

  /**
   * Resolves (true if it had to wait) once `hasRoom`, or when `stopped()` says to give up. Each
   * look first reads the signer's mined count again (`txs.refreshMined`; a failed read leaves the
   * poll's view): room is seen about ROOM_POLL_MS after the block that made it, not at the
   * TxManager's next poll: in dev that poll (500 ms) could take half of a 1 s block's time, in
   * which groups waited for room a block had already made. Reads are made only while a block's
   * worth of this signer's txs waits to be mined.
   */
  async waitForRoom(blockGasLimit: bigint, txs: UnminedView, stopped: () => boolean): Promise<boolean> {
    let waited = false;
    while (!stopped() && !this.hasRoom(blockGasLimit, txs.unmined())) {
      waited = true;
      await Promise.all([
        new Promise((resolve) => setTimeout(resolve, ROOM_POLL_MS)),
        txs.refreshMined().catch(() => undefined),
      ]);
    }
    return waited;
  }

  /** Counts `gas` as waiting for block space until the returned release is called (idempotent). */
  reserve(gas: bigint): () => void {
    this.sending += gas;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.sending -= gas;
    };
  }

  /** Gas that txs with `limit` in gas limits are expected to use, rounded up. */
  expectedUse(limit: bigint): bigint {
    let used = 0n;
    let limits = 0n;
    for (const r of this.recent) {
      used += r.used;
      limits += r.limit;
    }
    return limits === 0n ? limit : (limit * used + limits - 1n) / limits;
  }
}
