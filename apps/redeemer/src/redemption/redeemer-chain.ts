import { Injectable } from '@nestjs/common';
import { ChainClient, ChainFacts, RedemptionCalls, type ChainHead } from '#app/chain';

/** How long the validity period and block gas limit read from the chain are reused. */
const VALIDITY_PERIOD_TTL_MS = 60_000;
/** Weight of the newest block interval in the L1 block pace (an exponential moving average). */
const PACE_WEIGHT = 0.2;

/** The chain as the Redeemer reads it: the polled head, and TicketBroker calls bound on first use. */
@Injectable()
export class RedeemerChain {
  private bound?: RedemptionCalls;
  private validity?: { value: bigint; at: number };
  private gasLimit?: { value: bigint; at: number };
  /** The last L1 block seen advancing, and when; and the average ms per L1 block so far. */
  private lastL1?: { block: bigint; at: number };
  private msPerL1Block?: number;

  constructor(
    private readonly client: ChainClient,
    private readonly facts: ChainFacts,
  ) {}

  /** Throws until the Controller's registry has been read (the chain answered at least once). */
  calls(): RedemptionCalls {
    this.bound ??= new RedemptionCalls(
      this.client.provider,
      this.facts.addresses.ticketBroker,
      this.facts.addresses.bondingManager,
    );
    return this.bound;
  }

  /** The last polled head, or a fresh read if none was polled yet. */
  async head(): Promise<ChainHead> {
    let head: ChainHead;
    try {
      head = this.facts.head();
    } catch {
      head = await this.facts.refresh();
    }
    this.observe(head.l1Block);
    return head;
  }

  /**
   * About how long until L1 block `target` is seen here, from when the last block was seen
   * advancing and the pace so far (undefined before two blocks were seen; ≤ 0 when due). A job
   * waiting for its params to expire sleeps that long instead of polling every REDEEMER_POLL_MS.
   */
  msUntilL1Block(target: bigint): number | undefined {
    if (this.msPerL1Block === undefined || !this.lastL1) return undefined;
    return this.lastL1.at + Number(target - this.lastL1.block) * this.msPerL1Block - Date.now();
  }

  /** The average ms per L1 block seen so far; undefined before two blocks were seen. */
  get l1BlockMs(): number | undefined {
    return this.msPerL1Block;
  }

  private observe(l1Block: bigint): void {
    const now = Date.now();
    if (this.lastL1 && l1Block <= this.lastL1.block) return;
    if (this.lastL1) {
      const sample = (now - this.lastL1.at) / Number(l1Block - this.lastL1.block);
      // A quiet spell (no head read for a while) would look like slow blocks: damp it.
      this.msPerL1Block =
        this.msPerL1Block === undefined
          ? sample
          : (1 - PACE_WEIGHT) * this.msPerL1Block + PACE_WEIGHT * Math.min(sample, 2 * this.msPerL1Block);
    }
    this.lastL1 = { block: l1Block, at: now };
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
