import { ADDRESS_LENGTH, ticketTemplate, type Address, type SignedTicket } from '#app/ticket';
import { messageCodec } from './codec.js';
import { invalidField, readFixed, readUint256, writeFixed, writeUint256, type WireBytes } from './fields.js';
import {
  expirationParamsFromMessage,
  expirationParamsToMessage,
  senderParamsFromMessage,
  senderParamsToMessage,
  ticketParamsFromMessage,
  ticketParamsToMessage,
  type TicketExpirationParamsMessage,
  type TicketParamsMessage,
  type TicketSenderParamsMessage,
} from './lp-rpc-codecs.js';
import { protoTypes } from './proto-root.js';

/** Redeemer `Ticket`: a winning ticket with its revealed recipientRand. */
export interface TicketMessage {
  ticketParams?: TicketParamsMessage | null;
  sender?: WireBytes;
  expirationParams?: TicketExpirationParamsMessage | null;
  senderParams?: TicketSenderParamsMessage | null;
  recipientRand?: WireBytes;
}

export interface MaxFloatReqMessage {
  sender?: WireBytes;
}

export interface MaxFloatUpdateMessage {
  maxFloat?: WireBytes;
}

export interface MaxFloatRequest {
  sender: Address;
}

export interface MaxFloatUpdate {
  /** Never negative: go-livepeer's encoding would silently drop the sign (§8.1), so clamp first. */
  maxFloat: bigint;
}

/** go-livepeer fills only these ticket_params fields for the Redeemer; seed (0, so omitted) and the nested params stay empty. */
function signedTicketToMessage(ticket: SignedTicket): TicketMessage {
  const params = ticketParamsToMessage({
    recipient: ticket.recipient,
    faceValue: ticket.faceValue,
    winProb: ticket.winProb,
    recipientRandHash: ticket.recipientRandHash,
    seed: 0n,
    expirationBlock: ticket.paramsExpirationBlock,
  });
  return {
    ticketParams: params,
    sender: writeFixed(ticket.sender, ADDRESS_LENGTH, 'sender'),
    expirationParams: expirationParamsToMessage(ticket),
    senderParams: senderParamsToMessage({ senderNonce: ticket.senderNonce, sig: ticket.sig }),
    recipientRand: writeUint256(ticket.recipientRand, 'recipient_rand'),
  };
}

/** Without params, expiration params or sender params a ticket cannot be redeemed: refused. */
function signedTicketFromMessage(message: TicketMessage): SignedTicket {
  if (!message.ticketParams) throw invalidField('ticket_params is missing');
  if (!message.expirationParams) throw invalidField('expiration_params is missing');
  if (!message.senderParams) throw invalidField('sender_params is missing');
  const params = ticketParamsFromMessage(message.ticketParams);
  const { senderNonce, sig } = senderParamsFromMessage(message.senderParams);
  const template = ticketTemplate({
    sender: readFixed(message.sender, ADDRESS_LENGTH),
    params,
    expirationParams: expirationParamsFromMessage(message.expirationParams),
  });
  return {
    ...template,
    senderNonce,
    paramsExpirationBlock: params.expirationBlock,
    sig,
    recipientRand: readUint256(message.recipientRand, 'recipient_rand'),
  };
}

export const redeemerTicketCodec = messageCodec(
  protoTypes.Ticket,
  signedTicketToMessage,
  signedTicketFromMessage,
);

export const queueTicketResCodec = messageCodec(
  protoTypes.QueueTicketRes,
  (_value: Record<string, never>) => ({}),
  () => ({}),
);

export const maxFloatReqCodec = messageCodec(
  protoTypes.MaxFloatReq,
  (value: MaxFloatRequest): MaxFloatReqMessage => ({
    sender: writeFixed(value.sender, ADDRESS_LENGTH, 'sender'),
  }),
  (message: MaxFloatReqMessage): MaxFloatRequest => ({ sender: readFixed(message.sender, ADDRESS_LENGTH) }),
);

export const maxFloatUpdateCodec = messageCodec(
  protoTypes.MaxFloatUpdate,
  (value: MaxFloatUpdate): MaxFloatUpdateMessage => ({ maxFloat: writeUint256(value.maxFloat, 'max_float') }),
  (message: MaxFloatUpdateMessage): MaxFloatUpdate => ({
    maxFloat: readUint256(message.maxFloat, 'max_float'),
  }),
);
