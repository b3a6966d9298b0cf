import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { ChainFacts } from '#app/chain';
import { PendingFaceValue } from '#app/database';
import {
  SenderMonitor,
  isUnlockingSoon,
  maxFloat,
  parseAddress,
  senderUnlockingError,
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
 * Max float is the ticket library's rule, the same the SenderMonitor service applies, over what
 * this Recipient knows: pending is the face value of the sender's winning tickets stored here and
 * not yet final, and it is all there is (so it is also the total the 3× deposit waiver weighs).
 */
@Injectable()
export class ChainSenderMonitor extends SenderMonitor implements OnModuleInit, OnApplicationShutdown {
  private readonly infos = new Map<string, Promise<SenderInfo>>();
  private readonly claimed = new Map<string, Promise<bigint>>();
  private readonly active = new Map<string, Promise<boolean | undefined>>();
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

  /** After the gRPC calls in flight have drained (bootstrapService): they read this head's cache. */
  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
  }

  async maxFloat(sender: string, recipient: string): Promise<bigint> {
    const s = sender.toLowerCase();
    const r = recipient.toLowerCase();
    const { poolSize } = currentHead(this.chain).rounds;
    const [info, claimed, active, { pending, pendingTotal }] = await Promise.all([
      this.senderInfo(s),
      this.claimedReserve(s, r),
      this.recipientActive(r),
      this.pending(s, r),
    ]);
    // A chain source that cannot tell leaves the activity check to the contract at redemption.
    const recipientActive = active ?? true;
    return maxFloat({ info, claimed, poolSize, recipientActive, pending, pendingTotal });
  }

  async validateSender(sender: string): Promise<void> {
    const s = sender.toLowerCase();
    const { lastInitializedRound } = currentHead(this.chain).rounds;
    const info = await this.senderInfo(s);
    // The address is parsed only for the refusal's message: nothing extra per accepted payment.
    if (isUnlockingSoon(info, lastInitializedRound)) throw senderUnlockingError(parseAddress(s));
  }

  /**
   * Face value of the sender's stored winning tickets that are not redeemed, failed or expired yet:
   * to this recipient (deducted from its allocation, as the SenderMonitor does) and in all.
   */
  private async pending(
    sender: string,
    recipient: string,
  ): Promise<{ pending: bigint; pendingTotal: bigint }> {
    return this.pendingFaceValue.ofSenderTo(sender, recipient).catch((cause: unknown) => {
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

  private recipientActive(recipient: string): Promise<boolean | undefined> {
    return this.cached(
      this.active,
      recipient,
      () => this.chain.isActiveTranscoder(recipient),
      'whether the recipient is active',
    );
  }

  private cached<T>(
    cache: Map<string, Promise<T>>,
    key: string,
    read: () => Promise<T>,
    what = 'sender info',
  ): Promise<T> {
    let hit = cache.get(key);
    if (!hit) {
      if (cache.size >= MAX_CACHED) cache.clear();
      hit = read().catch((cause: unknown) => {
        cache.delete(key);
        throw new RecipientError(
          RecipientErrorCode.CHAIN_UNAVAILABLE,
          `could not get ${what} for ${key.slice(0, 42)}`,
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
    this.active.clear();
  }
}
