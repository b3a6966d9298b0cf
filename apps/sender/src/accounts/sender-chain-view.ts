import { Injectable } from '@nestjs/common';
import { ChainFacts, type ChainHead } from '#app/chain';
import type { SenderInfo } from '#app/ticket';
import { SenderError, SenderErrorCode } from '../sender.error.js';

interface CachedInfo {
  block: bigint;
  info: Promise<SenderInfo>;
}

/**
 * The chain as the Sender checks params against it: the last seen head and each account's
 * deposit and reserve. Sender info is read at most once per head block and account (concurrent
 * batches share the in-flight read), so signing throughput does not depend on RPC latency.
 */
@Injectable()
export class SenderChainView {
  private readonly infoCache = new Map<string, CachedInfo>();

  constructor(private readonly chain: ChainFacts) {}

  head(): ChainHead {
    try {
      return this.chain.head();
    } catch (cause) {
      throw new SenderError(SenderErrorCode.CHAIN_UNAVAILABLE, 'no chain head has been read yet', { cause });
    }
  }

  /** TicketBroker.getSenderInfo for `addressHex` as of `head`. */
  async senderInfo(addressHex: string, head: ChainHead): Promise<SenderInfo> {
    const cached = this.infoCache.get(addressHex);
    if (cached && cached.block === head.block) return cached.info;
    const info = this.chain.senderInfo(addressHex).catch((cause: unknown) => {
      if (this.infoCache.get(addressHex)?.info === info) this.infoCache.delete(addressHex);
      throw new SenderError(
        SenderErrorCode.CHAIN_UNAVAILABLE,
        `could not read the on-chain deposit and reserve of ${addressHex}`,
        { cause },
      );
    });
    this.infoCache.set(addressHex, { block: head.block, info });
    return info;
  }
}
