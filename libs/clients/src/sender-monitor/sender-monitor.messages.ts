import { bytesToHex, parseAddress, TicketError } from '#app/ticket';
import { SenderMonitorError, SenderMonitorErrorCode } from './sender-monitor.error.js';

// The messages of ticketpay.sendermonitor.v1 as @grpc/proto-loader delivers them (camelCase,
// uint64 as decimal strings, enums as names), plus the codecs of their string fields. Shared by
// the service and RemoteSenderMonitor so both sides validate the same way.

export type Uint64 = string | number;

export interface MaxFloatRequestMessage {
  sender?: string;
  recipient?: string;
}

export interface MaxFloatResponseMessage {
  maxFloat: string;
  block: Uint64;
}

export interface ValidateSenderRequestMessage {
  sender?: string;
}

export interface ValidityMessage {
  valid: boolean;
  errorCode: string;
  errorMessage: string;
}

export interface SenderInfoRequestMessage {
  sender?: string;
}

export interface RecipientFloatMessage {
  recipient: string;
  recipientActive: boolean;
  claimedReserve: string;
  reserveAllocation: string;
  pending: string;
  maxFloat: string;
}

export interface SenderInfoResponseMessage {
  sender: string;
  deposit: string;
  withdrawRound: string;
  reserve: { fundsRemaining: string; claimedInCurrentRound: string };
  pendingTotal: string;
  recipients: RecipientFloatMessage[];
  validity: ValidityMessage;
  poolSize: Uint64;
  currentRound: Uint64;
  lastInitializedRound: Uint64;
  block: Uint64;
}

export interface WatchMaxFloatRequestMessage {
  sender?: string;
  recipient?: string;
}

export type MaxFloatChangeReason = 'REASON_UNSPECIFIED' | 'INITIAL' | 'CHAIN_EVENT' | 'ROUND' | 'PENDING';

export interface MaxFloatChangeMessage {
  sender: string;
  recipient: string;
  maxFloat: string;
  validity: ValidityMessage;
  reason: MaxFloatChangeReason;
  block: Uint64;
}

/** A request address as lowercase 0x-hex; INVALID_ARGUMENT names the field otherwise. */
export function addressField(value: string | undefined, field: string): string {
  if (!value) throw invalidArgument(`${field} is required`);
  try {
    return bytesToHex(parseAddress(value, field));
  } catch (err) {
    if (err instanceof TicketError) throw invalidArgument(err.message, err);
    throw err;
  }
}

/** An optional request address: empty gives undefined. */
export function optionalAddressField(value: string | undefined, field: string): string | undefined {
  return value ? addressField(value, field) : undefined;
}

const SIGNED_DECIMAL = /^-?(0|[1-9]\d{0,77})$/;

/** Wei as a base-10 string; may be negative (max float). */
export function formatAmount(value: bigint): string {
  return value.toString(10);
}

/** Parses a base-10 amount from the service; malformed input is a BAD_RESPONSE. */
export function parseAmount(value: string | undefined, field: string, signed = false): bigint {
  if (value === undefined || !SIGNED_DECIMAL.test(value) || (!signed && value.startsWith('-'))) {
    throw new SenderMonitorError(
      SenderMonitorErrorCode.BAD_RESPONSE,
      `${field} is not a ${signed ? '' : 'non-negative '}decimal integer`,
    );
  }
  return BigInt(value);
}

function invalidArgument(message: string, cause?: unknown): SenderMonitorError {
  return new SenderMonitorError(SenderMonitorErrorCode.INVALID_ARGUMENT, message, { cause });
}
