import { Injectable, Logger } from '@nestjs/common';
import type { JsonRpcApiProvider, TransactionReceipt } from 'ethers';
import { ChainClient, ChainTxStatus, MiningDelays, l1BlockAt, type ChainTxRecord } from '#app/chain';
import { RedeemerMetrics } from '../metrics/redeemer.metrics.js';
import { RedeemerConfig } from '../redeemer.config.js';

/**
 * L1 blocks before a round's end in which no redemption tx is sent (roundMayEndBeforeMined's
 * margin, in the gate and right before a batch is sent): REDEEMER_ROUND_END_MARGIN_BLOCKS, or
 * more once this signer's recent txs took longer from the head they were judged at to being mined
 * (MiningDelays): under load a tx may wait several blocks, and one mined in the next round
 * reverts. The send's head and the mined block are both read in L1 blocks, the way the head
 * source reads them (ETH_L1_BLOCK_SOURCE: on Arbitrum the block's l1BlockNumber), since rounds
 * count L1 blocks. The one owner of that margin.
 */
@Injectable()
export class RoundEndMargin {
  private readonly logger = new Logger(RoundEndMargin.name);
  private readonly delays = new MiningDelays();

  constructor(
    private readonly config: RedeemerConfig,
    private readonly client: ChainClient,
    private readonly metrics: RedeemerMetrics,
  ) {
    this.metrics.roundEndMargin.set(this.blocks());
  }

  /**
   * The margin now: the configured floor or the largest recent delay (roundMayEndBeforeMined caps
   * it); a configured 0 turns the guard off, learned delays included.
   */
  blocks(): number {
    const floor = this.config.values.REDEEMER_ROUND_END_MARGIN_BLOCKS;
    return floor === 0 ? 0 : Math.max(floor, this.delays.largest());
  }

  /** Tx `txId` is about to be broadcast, judged against a head at L1 block `l1Block`. */
  sent(txId: string, l1Block: bigint): void {
    this.delays.sent(txId, l1Block);
  }

  /**
   * A tx of the signer is final (TxManager's `finished`; never throws): a mined or reverted one
   * sent here teaches its delay, read from its block's L1 number.
   */
  finished(record: ChainTxRecord, receipt: TransactionReceipt | null): void {
    if (!this.delays.follows(record.id)) return;
    if (!receipt || record.status === ChainTxStatus.DROPPED) {
      this.delays.forget(record.id);
      return;
    }
    const provider = this.client.provider as JsonRpcApiProvider;
    l1BlockAt(provider, BigInt(receipt.blockNumber), this.config.values.ETH_L1_BLOCK_SOURCE)
      .then((l1Block) => {
        const before = this.blocks();
        const delay = this.delays.mined(record.id, l1Block);
        const now = this.blocks();
        this.metrics.roundEndMargin.set(now);
        if (now !== before) {
          this.logger.log({ msg: 'round-end margin changed', blocks: now, txId: record.id, delay });
        }
      })
      .catch((err: unknown) => {
        this.delays.forget(record.id);
        this.logger.warn({ msg: 'mined block not read', txId: record.id, error: (err as Error).message });
      });
  }
}
