import { paramsExpiredForSender } from './params-expiry.js';
import { TicketError, TicketErrorCode, invalidInput } from './errors.js';
import { ticketEV } from './ev.js';
import { Rational } from './rational.js';
import { isUnlockingSoon } from './sender-unlock.js';
import type { SenderInfo, TicketParams } from './types.js';

/** B's economic limits (go-livepeer flags `-maxTicketEV`, `-maxTotalEV`, `-depositMultiplier`). */
export interface SenderParamsPolicy {
  /** Largest acceptable EV of one ticket; unlimited when absent. */
  maxEV?: Rational;
  /** Largest acceptable EV of one payment (EV × number of tickets); unlimited when absent. */
  maxTotalEV?: Rational;
  /** faceValue may be at most deposit / depositMultiplier (integer division); ≥ 1. */
  depositMultiplier: bigint;
}

/** The chain facts B checks params against, as it currently sees them. */
export interface SenderChainFacts {
  lastSeenL1Block: bigint;
  lastInitializedRound: bigint;
  /** B's own deposit and reserve. */
  senderInfo: SenderInfo;
}

const EV_DECIMALS = 5;

function fail(code: TicketErrorCode, message: string): never {
  throw new TicketError(code, message);
}

/**
 * B's check of O's params before signing `numTickets` tickets (§7.3), in go-livepeer's order
 * and wording. Throws a TicketError; PARAMS_EXPIRED is the acceptable one (refresh and retry),
 * the rest mean these params must not be used. Zero-EV params (free work) skip every economic
 * check, but an expiration block of 0 never does (security fix a6c4b1ef7).
 */
export function validateTicketParams(
  params: TicketParams | null | undefined,
  numTickets: number,
  facts: SenderChainFacts,
  policy: SenderParamsPolicy,
): void {
  if (!Number.isSafeInteger(numTickets) || numTickets < 0)
    throw invalidInput('numTickets must be a non-negative integer');
  if (policy.depositMultiplier < 1n) throw invalidInput('depositMultiplier must be at least 1');
  if (!params) fail(TicketErrorCode.PARAMS_MISSING, 'ticketParams is nil');
  if (params.expirationBlock === 0n) {
    fail(TicketErrorCode.PARAMS_EXPIRATION_BLOCK_ZERO, 'ticketParams expiration block is 0');
  }
  if (paramsExpiredForSender(params.expirationBlock, facts.lastSeenL1Block)) {
    fail(TicketErrorCode.PARAMS_EXPIRED, 'TicketParams expired');
  }

  const ev = ticketEV(params.faceValue, params.winProb);
  if (ev.sign() <= 0) return;
  if (ev.cmp(Rational.of(params.faceValue)) >= 0) {
    fail(TicketErrorCode.FACE_VALUE_TOO_LOW, `ticket faceValue too low faceValue=${params.faceValue}`);
  }
  if (policy.maxEV && ev.cmp(policy.maxEV) > 0) {
    fail(
      TicketErrorCode.EV_TOO_HIGH,
      `ticket EV ${ev.toDecimalString(EV_DECIMALS)} > max ticket EV ${policy.maxEV.toDecimalString(EV_DECIMALS)}`,
    );
  }

  const info = facts.senderInfo;
  if (isUnlockingSoon(info, facts.lastInitializedRound)) {
    fail(
      TicketErrorCode.SENDER_UNLOCKING,
      'unable to validate sender: deposit and reserve is set to unlock soon',
    );
  }
  if (info.reserve.fundsRemaining === 0n) fail(TicketErrorCode.NO_SENDER_RESERVE, 'no sender reserve');
  if (info.deposit === 0n) fail(TicketErrorCode.NO_SENDER_DEPOSIT, 'no sender deposit');

  const totalEV = ev.mul(Rational.of(BigInt(numTickets)));
  if (policy.maxTotalEV && totalEV.cmp(policy.maxTotalEV) > 0) {
    fail(
      TicketErrorCode.TOTAL_EV_TOO_HIGH,
      `total ticket EV ${totalEV.toDecimalString(EV_DECIMALS)} for ${numTickets} tickets > max total ticket EV ` +
        policy.maxTotalEV.toDecimalString(EV_DECIMALS),
    );
  }
  const maxFaceValue = info.deposit / policy.depositMultiplier;
  if (params.faceValue > maxFaceValue) {
    fail(
      TicketErrorCode.FACE_VALUE_TOO_HIGH,
      `ticket faceValue ${params.faceValue} > max faceValue ${maxFaceValue}`,
    );
  }
}
