import { Injectable } from '@nestjs/common';
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

/**
 * The SenderMonitor port read straight from the chain views, until the SenderMonitor service is
 * there to ask (PROTOCOL.md §8.1, §8.3). Each chain read is made once per head block (ChainFacts).
 *
 * Max float is the ticket library's rule, the same the SenderMonitor service applies, over what
 * this Recipient knows: pending is the face value of the sender's winning tickets stored here and
 * not yet final, and it is all there is (so it is also the total the 3× deposit waiver weighs).
 */
@Injectable()
export class ChainSenderMonitor extends SenderMonitor {
  constructor(
    private readonly chain: ChainFacts,
    private readonly pendingFaceValue: PendingFaceValue,
  ) {
    super();
  }

  async maxFloat(sender: string, recipient: string): Promise<bigint> {
    const s = sender.toLowerCase();
    const r = recipient.toLowerCase();
    const { poolSize } = currentHead(this.chain).rounds;
    const [info, claimed, recipientActive, { pending, pendingTotal }] = await Promise.all([
      this.senderInfo(s),
      this.claimedReserve(s, r),
      this.recipientActive(r),
      this.pending(s, r),
    ]);
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
    return unavailable(this.chain.senderInfo(sender), `sender info for ${sender}`);
  }

  private claimedReserve(sender: string, claimant: string): Promise<bigint> {
    return unavailable(
      this.chain.claimedReserve(sender, claimant),
      `the reserve ${claimant} claimed from ${sender}`,
    );
  }

  private recipientActive(recipient: string): Promise<boolean> {
    return unavailable(
      this.chain.isActiveTranscoder(recipient),
      `whether the recipient is active for ${recipient}`,
    );
  }
}

/** A chain read that failed, as the Recipient refuses it. */
function unavailable<T>(read: Promise<T>, what: string): Promise<T> {
  return read.catch((cause: unknown) => {
    throw new RecipientError(RecipientErrorCode.CHAIN_UNAVAILABLE, `could not get ${what}`, { cause });
  });
}
