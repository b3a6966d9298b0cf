import {
  formatAmount,
  type MaxFloatChange,
  type MaxFloatChangeMessage,
  type MonitoredSender,
  type RecipientFloat,
  type RecipientFloatMessage,
  type SenderInfoResponseMessage,
  type SenderValidity,
  type ValidityMessage,
} from '#app/clients';

// Domain values → ticketpay.sendermonitor.v1 messages (uint64 as decimal strings, as the loader reads them).

export function validityMessage(v: SenderValidity): ValidityMessage {
  return { valid: v.valid, errorCode: v.errorCode ?? '', errorMessage: v.errorMessage ?? '' };
}

function recipientMessage(r: RecipientFloat): RecipientFloatMessage {
  return {
    recipient: r.recipient,
    recipientActive: r.recipientActive,
    claimedReserve: formatAmount(r.claimedReserve),
    reserveAllocation: formatAmount(r.reserveAllocation),
    pending: formatAmount(r.pending),
    maxFloat: formatAmount(r.maxFloat),
  };
}

export function senderInfoMessage(v: MonitoredSender): SenderInfoResponseMessage {
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
    poolSize: v.poolSize.toString(),
    currentRound: v.currentRound.toString(),
    lastInitializedRound: v.lastInitializedRound.toString(),
    block: v.block.toString(),
  };
}

export function maxFloatChangeMessage(u: MaxFloatChange): MaxFloatChangeMessage {
  return {
    sender: u.sender,
    recipient: u.recipient,
    maxFloat: formatAmount(u.maxFloat),
    validity: validityMessage(u.validity),
    reason: u.reason,
    block: u.block.toString(),
  };
}
