import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { ChainFacts } from '#app/chain';
import { PendingFaceValue } from '#app/database';
import {
  SenderMonitor,
  TicketError,
  TicketErrorCode,
  isUnlockingSoon,
  parseAddress,
  toChecksumAddress,
  type SenderInfo,
} from '#app/ticket';
import { currentHead } from '../chain-head.js';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';

/** Entries cached per head before the cache is simply dropped (it is refilled on demand). */
const MAX_CACHED = 10_000;

/**
 * The SenderMonitor port read straight from the chain views, until the SenderMonitor service is
 * there to ask (PROTOCOL.md §8.1, §8.3). Chain reads are cached for the current head only.
 *
 * maxFloat = (fundsRemaining + claimedInCurrentRound) / poolSize − claimedReserve(sender, recipient)
 *            − pending, where pending is the face value of the sender's winning tickets stored
 * here and not yet final. Unlike go-livepeer, a large deposit never waives the pending deduction
 * (its 3× deposit/pending rule): this view has no redemption ledger to trust for that.
 */
@Injectable()
export class ChainSenderMonitor extends SenderMonitor implements OnModuleInit, OnModuleDestroy {
  private readonly infos = new Map<string, Promise<SenderInfo>>();
  private readonly claimed = new Map<string, Promise<bigint>>();
  private subscription?: Subscription;

  constructor(
    private readonly chain: ChainFacts,
    private readonly pendingFaceValue: PendingFaceValue,
  ) {
    super();
  }

  onModuleInit(): void {
    this.subscription = this.chain.heads$.subscribe(() => this.clear());
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  async maxFloat(sender: string, recipient: string): Promise<bigint> {
    const s = sender.toLowerCase();
    const r = recipient.toLowerCase();
    const { poolSize } = currentHead(this.chain).rounds;
    const [info, claimed, pending] = await Promise.all([
      this.senderInfo(s),
      this.claimedReserve(s, r),
      this.pending(s),
    ]);
    const allocation =
      poolSize === 0n
        ? 0n
        : (info.reserve.fundsRemaining + info.reserve.claimedInCurrentRound) / poolSize - claimed;
    return allocation - pending;
  }

  async validateSender(sender: string): Promise<void> {
    const s = sender.toLowerCase();
    const { lastInitializedRound } = currentHead(this.chain).rounds;
    const info = await this.senderInfo(s);
    if (isUnlockingSoon(info, lastInitializedRound)) {
      throw new TicketError(
        TicketErrorCode.SENDER_UNLOCKING,
        `deposit and reserve for sender ${toChecksumAddress(parseAddress(s))} is set to unlock soon`,
      );
    }
  }

  /** Face value of the sender's stored winning tickets that are not redeemed, failed or expired yet. */
  private async pending(sender: string): Promise<bigint> {
    return this.pendingFaceValue.ofSender(sender).catch((cause: unknown) => {
      throw new RecipientError(
        RecipientErrorCode.DATABASE_UNAVAILABLE,
        "the sender's pending winning tickets cannot be read right now",
        { cause },
      );
    });
  }

  private senderInfo(sender: string): Promise<SenderInfo> {
    return this.cached(this.infos, sender, () => this.chain.senderInfo(sender));
  }

  private claimedReserve(sender: string, claimant: string): Promise<bigint> {
    return this.cached(this.claimed, `${sender}:${claimant}`, () =>
      this.chain.claimedReserve(sender, claimant),
    );
  }

  private cached<T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
    let hit = cache.get(key);
    if (!hit) {
      if (cache.size >= MAX_CACHED) cache.clear();
      hit = read().catch((cause: unknown) => {
        cache.delete(key);
        throw new RecipientError(
          RecipientErrorCode.CHAIN_UNAVAILABLE,
          `could not get sender info for ${key.slice(0, 42)}`,
          { cause },
        );
      });
      cache.set(key, hit);
    }
    return hit;
  }

  private clear(): void {
    this.infos.clear();
    this.claimed.clear();
  }
}
