import { toChecksumAddress } from './address.js';
import { TicketError, TicketErrorCode } from './errors.js';
import type { Address, SenderInfo } from './types.js';

/**
 * The TicketBroker's `isLocked` (TICKETBROKER.md §4.2): `withdrawRound == 0 || currentRound <
 * withdrawRound`. While it holds the sender's tickets are redeemable and its funds cannot be
 * withdrawn; once the unlock period has passed the broker refuses its tickets ("sender is unlocked").
 */
export function isSenderLocked(info: Pick<SenderInfo, 'withdrawRound'>, currentRound: bigint): boolean {
  return info.withdrawRound === 0n || currentRound < info.withdrawRound;
}

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
