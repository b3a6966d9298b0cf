import {
  priceInfoCodec,
  rationalMessage,
  ticketParamsCodec,
  type PaymentMessage,
  type PriceInfoMessage,
  type RationalMessage,
  type TicketParamsMessage,
  type WireBytes,
} from '#app/proto';
import { SenderError, SenderErrorCode } from '../sender.error.js';
import type {
  AccountView,
  CreatedBatch,
  StartedSession,
  StartSessionInput,
} from '../session/sender.service.js';

// Plain objects as @grpc/proto-loader hands them over (camelCase, bytes as Buffer, int64 as
// strings) for package ticketpay.sender.v1, and their conversions. net.* fields go through the
// #app/proto codecs, so they are validated exactly as on the go-livepeer wire.

export interface StartSessionRequestMessage {
  sender?: WireBytes | null;
  ticketParams?: TicketParamsMessage | null;
  expectedPrice?: PriceInfoMessage | null;
}

export interface SessionRequestMessage {
  sessionId?: string | null;
}

export interface CreateTicketBatchRequestMessage extends SessionRequestMessage {
  size?: number | null;
}

export function toStartSessionInput(message: StartSessionRequestMessage | undefined): StartSessionInput {
  if (!message) throw new SenderError(SenderErrorCode.INVALID_REQUEST, 'empty request');
  return {
    sender: Uint8Array.from(message.sender ?? []),
    params: message.ticketParams ? ticketParamsCodec.fromMessage(message.ticketParams) : undefined,
    expectedPrice: message.expectedPrice ? priceInfoCodec.fromMessage(message.expectedPrice) : undefined,
  };
}

export function startSessionResponse(s: StartedSession) {
  return {
    sessionId: s.sessionId,
    ev: rationalMessage(s.ev),
    resumed: s.resumed,
    nonce: s.nonce,
    noncesRemaining: s.noncesRemaining,
    recipientAlias: s.recipientAlias,
  };
}

export function createTicketBatchResponse(b: CreatedBatch): {
  payment: PaymentMessage;
  paymentHeader: string;
  firstNonce: number;
  lastNonce: number;
  noncesRemaining: number;
  refreshParams: boolean;
  ev: RationalMessage;
} {
  return {
    payment: b.payment,
    paymentHeader: b.paymentHeader,
    firstNonce: b.firstNonce,
    lastNonce: b.lastNonce,
    noncesRemaining: b.noncesRemaining,
    refreshParams: b.refreshParams,
    ev: rationalMessage(b.ev),
  };
}

export function sendersResponse(accounts: readonly AccountView[]) {
  return {
    senders: accounts.map(({ address, info }) => ({
      address,
      deposit: info.deposit.toString(),
      reserve: info.reserve.fundsRemaining.toString(),
      reserveClaimedInCurrentRound: info.reserve.claimedInCurrentRound.toString(),
      withdrawRound: info.withdrawRound.toString(),
    })),
  };
}
