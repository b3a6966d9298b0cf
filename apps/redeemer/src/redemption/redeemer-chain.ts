import { Injectable } from '@nestjs/common';
import {
  BlockPace,
  ChainClient,
  ChainFacts,
  RedemptionCalls,
  broadcastRaw,
  nodeKnowsTx,
  roundWaitTarget,
  type ChainHead,
  type ChainTxRecord,
} from '#app/chain';
import { RedeemerConfig } from '../redeemer.config.js';

/** How long the validity period and block gas limit read from the chain are reused. */
const VALIDITY_PERIOD_TTL_MS = 60_000;

/** The chain as the Redeemer reads it: the polled head, and TicketBroker calls bound on first use. */
@Injectable()
export class RedeemerChain {
  private bound?: RedemptionCalls;
  private validity?: { value: bigint; at: number };
  private gasLimit?: { value: bigint; at: number };
  private reading?: Promise<ChainHead>;

  constructor(
    private readonly client: ChainClient,
    private readonly facts: ChainFacts,
    private readonly pace: BlockPace,
    private readonly config: RedeemerConfig,
  ) {}

  /** Throws until the Controller's registry has been read (the chain answered at least once). */
  calls(): RedemptionCalls {
    this.bound ??= new RedemptionCalls(
      this.client.provider,
      this.facts.addresses.ticketBroker,
      this.facts.addresses.bondingManager,
      this.config.values.ETH_LOGS_MAX_BLOCKS,
    );
    return this.bound;
  }

  /** The last polled head, or a fresh read if none was polled yet. */
  async head(): Promise<ChainHead> {
    try {
      return this.facts.head();
    } catch {
      return this.facts.refresh();
    }
  }

  /**
   * The head read now rather than the last polled one (up to a poll old), one read shared by every
   * caller meanwhile: for a ticket about to wait a whole round step on what an old head says.
   */
  latestHead(): Promise<ChainHead> {
    this.reading ??= this.facts.refresh().finally(() => (this.reading = undefined));
    return this.reading;
  }

  /**
   * About how long a ticket held for the round at `head` (ending, or not initialized) sleeps:
   * until the round it waits for can have been initialized (roundWaitTarget) is due to be seen.
   */
  msUntilRoundReady(head: ChainHead): number | undefined {
    return this.pace.msUntil(roundWaitTarget(head));
  }

  /**
   * About how long until L1 block `target` is seen here, with a little slack (BlockPace; undefined
   * while the pace is unknown, ≤ 0 when due). A job waiting for its params to expire sleeps that
   * long instead of polling every REDEEMER_POLL_MS.
   */
  msUntilL1Block(target: bigint): number | undefined {
    return this.pace.msUntil(target);
  }

  /** How many txs of `address` the latest block has mined: its next nonce on chain. */
  async minedTxCount(address: string): Promise<bigint> {
    return BigInt(await this.client.provider.getTransactionCount(address, 'latest'));
  }

  /**
   * Whether a stored tx's newest signed bytes should be broadcast: a tx of another signer that
   * nobody follows (its key retired) and that was never sent (a crash between storing and
   * broadcasting) or that the node forgot. Anyone may send signed bytes; only then can it be mined,
   * or its nonce pass it. Yes when the node knows none of its signings, or only an older (cheaper)
   * one; no when it knows the newest, or when another tx of that signer waits in the pool at its
   * nonce (an operator's cancel, say: ours could displace it, and it moves the nonce anyway; where
   * there is no public pool, as on Arbitrum, the pending count is the mined one and this never holds).
   */
  async needsBroadcast(record: ChainTxRecord): Promise<boolean> {
    const provider = this.client.provider;
    const { hashes } = record;
    if (await nodeKnowsTx(provider, hashes[hashes.length - 1])) return false;
    for (let i = hashes.length - 2; i >= 0; i--) if (await nodeKnowsTx(provider, hashes[i])) return true;
    return BigInt(await provider.getTransactionCount(record.signer, 'pending')) <= record.nonce;
  }

  /** Sends a stored tx's newest signed bytes. */
  broadcast(record: ChainTxRecord): Promise<void> {
    return broadcastRaw(this.client.provider, record.rawTx);
  }

  /** TicketBroker.ticketValidityPeriod, re-read every minute (an admin can change it). */
  async validityPeriod(): Promise<bigint> {
    if (!this.validity || Date.now() - this.validity.at > VALIDITY_PERIOD_TTL_MS) {
      this.validity = { value: await this.calls().ticketValidityPeriod(), at: Date.now() };
    }
    return this.validity.value;
  }

  /** The latest block's gas limit, re-read every minute (a chain may move it). */
  async blockGasLimit(): Promise<bigint> {
    if (!this.gasLimit || Date.now() - this.gasLimit.at > VALIDITY_PERIOD_TTL_MS) {
      this.gasLimit = { value: await this.calls().blockGasLimit(), at: Date.now() };
    }
    return this.gasLimit.value;
  }
}
