import { Injectable } from '@nestjs/common';
import { ChainFacts, type ChainHead } from '#app/chain';
import type { SenderInfo } from '#app/ticket';
import { SenderError, SenderErrorCode } from '../sender.error.js';

/**
 * The chain as the Sender checks params against it: the last seen head and each account's
 * deposit and reserve, read at most once per head block and account by ChainFacts (concurrent
 * batches share the read), so signing throughput does not depend on RPC latency.
 */
@Injectable()
export class SenderChainView {
  constructor(private readonly chain: ChainFacts) {}

  head(): ChainHead {
    try {
      return this.chain.head();
    } catch (cause) {
      throw new SenderError(SenderErrorCode.CHAIN_UNAVAILABLE, 'no chain head has been read yet', { cause });
    }
  }

  /** TicketBroker.getSenderInfo for `addressHex`, read once per head block (ChainFacts). */
  senderInfo(addressHex: string): Promise<SenderInfo> {
    return this.chain.senderInfo(addressHex).catch((cause: unknown) => {
      throw new SenderError(
        SenderErrorCode.CHAIN_UNAVAILABLE,
        `could not read the on-chain deposit and reserve of ${addressHex}`,
        { cause },
      );
    });
  }
}
