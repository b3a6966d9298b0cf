import type { SenderInfo } from '#app/ticket';
import type { MaxFloatChangeReason } from './sender-monitor.messages.js';

// What ticketpay.sendermonitor.v1 says about senders, as values (bigint amounts, lowercase 0x-hex
// addresses). One owner: the service builds them and encodes them, RemoteSenderMonitor decodes
// them, so the two sides cannot drift apart field by field.

/**
 * Whether a sender may be paid from, and why not. The service knows its codes are the ticket
 * library's (`SenderValidity<TicketErrorCode>`); a client reads whatever string the wire carries.
 */
export interface SenderValidity<Code extends string = string> {
  valid: boolean;
  /** Set when not valid, e.g. TicketErrorCode.SENDER_UNLOCKING. */
  errorCode?: Code;
  errorMessage?: string;
}

/** One served recipient's share of a sender's reserve and what it can still accept. */
export interface RecipientFloat {
  recipient: string;
  recipientActive: boolean;
  claimedReserve: bigint;
  reserveAllocation: bigint;
  pending: bigint;
  /** Reserve allocation minus pending face value (§8.1); may be negative. */
  maxFloat: bigint;
}

/** Everything the monitor knows about one sender at one synced block (the SenderInfo call). */
export interface MonitoredSender {
  sender: string;
  info: SenderInfo;
  pendingTotal: bigint;
  recipients: RecipientFloat[];
  validity: SenderValidity;
  poolSize: bigint;
  currentRound: bigint;
  lastInitializedRound: bigint;
  block: bigint;
}

/** One change of a sender's max float for a recipient, or of its validity (WatchMaxFloat). */
export interface MaxFloatChange {
  sender: string;
  recipient: string;
  maxFloat: bigint;
  validity: SenderValidity;
  reason: MaxFloatChangeReason;
  block: bigint;
}
