import { Subject } from 'rxjs';
import type { SenderInfo } from '#app/ticket';
import { ChainFacts, type ChainHead } from '../chain-facts.js';
import type { ProtocolAddresses } from '../discover.js';
import type { ChainWatcher } from './chain-watcher.js';

/**
 * The ChainFacts port served from the watchers instead of per-call RPC: the head, rounds and gas
 * price of the last poll, and sender state from the event-fed cache. A drop-in for RpcChainFacts
 * where a ChainWatcher runs; senders read here stay cached until `ChainWatcher.cache.delete`.
 */
export class WatcherChainFacts extends ChainFacts {
  readonly heads$ = new Subject<ChainHead>();

  constructor(private readonly watcher: ChainWatcher) {
    super();
    watcher.heads$.subscribe(this.heads$);
  }

  get addresses(): ProtocolAddresses {
    return this.watcher.addresses;
  }

  head(): ChainHead {
    return this.watcher.head();
  }

  async senderInfo(sender: string): Promise<SenderInfo> {
    return (await this.watcher.cache.get(sender)).info;
  }

  async claimedReserve(sender: string, claimant: string): Promise<bigint> {
    const key = claimant.toLowerCase();
    if (!this.watcher.trackedClaimants().includes(key)) return this.watcher.claimedReserve(sender, claimant);
    return (await this.watcher.cache.get(sender)).claimed.get(key) ?? 0n;
  }

  async refresh(): Promise<ChainHead> {
    await this.watcher.tick();
    return this.watcher.head();
  }
}
