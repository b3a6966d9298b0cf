import { Injectable, Logger } from '@nestjs/common';
import type { JsonRpcApiProvider, TransactionReceipt } from 'ethers';
import {
  ChainClient,
  ChainFacts,
  ChainTxStatus,
  MiningDelays,
  RECENT_MINED_TXS,
  TxStore,
  l1BlockAt,
  type ChainKind,
  type ChainTxRecord,
} from '#app/chain';
import { RedeemerMetrics } from '../metrics/redeemer.metrics.js';
import { RedeemerConfig } from '../redeemer.config.js';
import { safeErrorMessage } from '#app/common';

/**
 * L1 blocks before a round's end in which no redemption tx is sent but those of tickets in their
 * last valid round (roundMayEndBeforeMined's margin, in the gate and right before a batch is
 * sent): REDEEMER_ROUND_END_MARGIN_BLOCKS, or
 * more once this signer's recent txs took longer from the head they were judged at to being mined
 * (MiningDelays): under load a tx may wait several blocks, and one mined in the next round
 * reverts. The send's head and the mined block are both read in L1 blocks, the way the head
 * source reads them (ETH_L1_BLOCK_SOURCE: on Arbitrum the block's l1BlockNumber), since rounds
 * count L1 blocks. Both are stored with the tx (chain_tx), so what was learned survives a
 * restart: `restore` rebuilds it from Postgres before any tx is sent. The one owner of that margin.
 */
@Injectable()
export class RoundEndMargin {
  private readonly logger = new Logger(RoundEndMargin.name);
  private delays = new MiningDelays();

  constructor(
    private readonly config: RedeemerConfig,
    private readonly client: ChainClient,
    private readonly facts: ChainFacts,
    private readonly store: TxStore,
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

  /**
   * Rebuilds the recent delays from `signer`'s last mined txs on this chain, replacing those in
   * memory (Postgres is their source of truth: another instance may have sent meanwhile). Run at
   * each activation, before the TxManager starts, so no tx is sent or finished meanwhile. Throws
   * when the chain or the database does not answer (the activation is retried).
   */
  async restore(signer: string): Promise<void> {
    const { chainId } = await this.client.provider.getNetwork();
    const mined = await this.store.recentMinedL1Blocks(chainId, signer, RECENT_MINED_TXS);
    this.delays = MiningDelays.of(mined);
    const blocks = this.blocks();
    this.metrics.roundEndMargin.set(blocks);
    this.logger.log({ msg: 'round-end margin restored', blocks, minedTxs: this.delays.size });
  }

  /**
   * A tx of the signer is final (TxManager's `finished`; never throws): a mined or reverted one
   * judged at a head teaches its delay, read from its block's L1 number, which is then stored.
   */
  finished(record: ChainTxRecord, receipt: TransactionReceipt | null): void {
    const judgedL1Block = record.judgedL1Block;
    if (judgedL1Block === null || !receipt || record.status === ChainTxStatus.DROPPED) return;
    const provider = this.client.provider as JsonRpcApiProvider;
    l1BlockAt(provider, BigInt(receipt.blockNumber), this.config.values.ETH_L1_BLOCK_SOURCE, this.chainKind())
      .then(async (minedL1Block) => {
        const before = this.blocks();
        const delay = this.delays.mined({ judgedL1Block, minedL1Block });
        const now = this.blocks();
        this.metrics.roundEndMargin.set(now);
        if (now !== before) {
          this.logger.log({ msg: 'round-end margin changed', blocks: now, txId: record.id, delay });
        }
        await this.store.recordMinedL1Block(record.id, minedL1Block).catch((err: unknown) =>
          // Learned in memory all the same; only a restart forgets this one delay.
          this.logger.warn({
            msg: 'mined L1 block not stored',
            txId: record.id,
            error: (err as Error).message,
          }),
        );
      })
      .catch((err: unknown) => {
        this.logger.warn({ msg: 'mined block not read', txId: record.id, error: safeErrorMessage(err) });
      });
  }

  /** The chain's kind as the last head showed it (off Arbitrum a mined block is its own L1 block: no read). */
  private chainKind(): ChainKind | undefined {
    try {
      return this.facts.head().kind;
    } catch {
      return undefined;
    }
  }
}
