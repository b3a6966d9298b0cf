import {
  formatAmount,
  type MaxFloatChangeMessage,
  type RecipientFloatMessage,
  type SenderInfoResponseMessage,
  type ValidityMessage,
} from '#app/clients';
import type {
  MaxFloatUpdate,
  RecipientView,
  SenderView,
  Validity,
} from '../monitor/sender-monitor.service.js';

// Domain values → ticketpay.sendermonitor.v1 messages (uint64 as decimal strings, as the loader reads them).

export function validityMessage(v: Validity): ValidityMessage {
  return { valid: v.valid, errorCode: v.errorCode ?? '', errorMessage: v.errorMessage ?? '' };
}

function recipientMessage(r: RecipientView): RecipientFloatMessage {
  return {
    recipient: r.recipient,
    recipientActive: r.recipientActive,
    claimedReserve: formatAmount(r.claimedReserve),
    reserveAllocation: formatAmount(r.reserveAllocation),
    pending: formatAmount(r.pending),
    maxFloat: formatAmount(r.maxFloat),
  };
}

export function senderInfoMessage(v: SenderView): SenderInfoResponseMessage {
  return {
    sender: v.sender,
    deposit: formatAmount(v.info.deposit),
    withdrawRound: formatAmount(v.info.withdrawRound),
    reserve: {
      fundsRemaining: formatAmount(v.info.reserve.fundsRemaining),
      claimedInCurrentRound: formatAmount(v.info.reserve.claimedInCurrentRound),
    },
    pendingTotal: formatAmount(v.pendingTotal),
    recipients: v.recipients.map(recipientMessage),
    validity: validityMessage(v.validity),
    poolSize: v.head.rounds.poolSize.toString(),
    currentRound: v.head.rounds.currentRound.toString(),
    lastInitializedRound: v.head.rounds.lastInitializedRound.toString(),
    block: v.head.block.toString(),
  };
}

export function maxFloatChangeMessage(u: MaxFloatUpdate): MaxFloatChangeMessage {
  return {
    sender: u.sender,
    recipient: u.recipient,
    maxFloat: formatAmount(u.maxFloat),
    validity: validityMessage(u.validity),
    reason: u.reason,
    block: u.block.toString(),
  };
}
