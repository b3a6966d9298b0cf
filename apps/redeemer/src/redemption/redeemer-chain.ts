import { Injectable } from '@nestjs/common';
import { ChainClient, ChainFacts, RedemptionCalls, type ChainHead } from '#app/chain';

const VALIDITY_PERIOD_TTL_MS = 60_000;

/** The chain as the Redeemer reads it: the polled head, and TicketBroker calls bound on first use. */
@Injectable()
export class RedeemerChain {
  private bound?: RedemptionCalls;
  private validity?: { value: bigint; at: number };

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
    try {
      return this.facts.head();
    } catch {
      return this.facts.refresh();
    }
  }

  /** TicketBroker.ticketValidityPeriod, re-read every minute (an admin can change it). */
  async validityPeriod(): Promise<bigint> {
    if (!this.validity || Date.now() - this.validity.at > VALIDITY_PERIOD_TTL_MS) {
      this.validity = { value: await this.calls().ticketValidityPeriod(), at: Date.now() };
    }
    return this.validity.value;
  }
}
