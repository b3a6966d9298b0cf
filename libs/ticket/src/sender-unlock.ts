import { toChecksumAddress } from './address.js';
import { TicketError, TicketErrorCode } from './errors.js';
import type { Address, SenderInfo } from './types.js';

/**
 * go-livepeer refuses a sender whose unlock completes within a round: `withdrawRound ≠ 0 and
 * withdrawRound ≤ lastInitializedRound + 1` (§7.3 step 8, §8.3). The deposit could be withdrawn
 * before a winning ticket is redeemed.
 */
export function isUnlockingSoon(
  info: Pick<SenderInfo, 'withdrawRound'>,
  lastInitializedRound: bigint,
): boolean {
  return info.withdrawRound !== 0n && info.withdrawRound <= lastInitializedRound + 1n;
}

/**
 * The recipient side's refusal of such a sender (go-livepeer's ValidateSender wording), whichever
 * SenderMonitor decides it: the Recipient's ticket validation, its chain-read port, or the
 * SenderMonitor service answering a validity over gRPC. The Sender words its own check differently
 * (sender-params-validator).
 */
export function senderUnlockingError(sender: Address): TicketError {
  return new TicketError(
    TicketErrorCode.SENDER_UNLOCKING,
    `deposit and reserve for sender ${toChecksumAddress(sender)} is set to unlock soon`,
  );
}

/** Throws senderUnlockingError when `isUnlockingSoon` holds for the sender. */
export function assertSenderNotUnlocking(
  sender: Address,
  info: Pick<SenderInfo, 'withdrawRound'>,
  lastInitializedRound: bigint,
): void {
  if (isUnlockingSoon(info, lastInitializedRound)) throw senderUnlockingError(sender);
}
