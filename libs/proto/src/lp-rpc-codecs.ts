import {
  ADDRESS_LENGTH,
  HASH_LENGTH,
  type Payment,
  type PriceInfo,
  type TicketExpirationParams,
  type TicketParams,
  type TicketSenderParams,
} from '#app/ticket';
import { messageCodec } from './codec.js';
import {
  invalidField,
  readBytes,
  readFixed,
  readInt64,
  readUint256,
  readUint32,
  writeFixed,
  writeInt64,
  writeUint256,
  writeUint32,
  type WireBytes,
  type WireInt64,
} from './fields.js';
import { protoTypes } from './proto-root.js';

export interface TicketExpirationParamsMessage {
  creationRound?: WireInt64;
  creationRoundBlockHash?: WireBytes;
}

export interface TicketParamsMessage {
  recipient?: WireBytes;
  faceValue?: WireBytes;
  winProb?: WireBytes;
  recipientRandHash?: WireBytes;
  seed?: WireBytes;
  expirationBlock?: WireBytes;
  expirationParams?: TicketExpirationParamsMessage | null;
}

export interface TicketSenderParamsMessage {
  senderNonce?: number;
  sig?: WireBytes;
}

export interface PriceInfoMessage {
  pricePerUnit?: WireInt64;
  pixelsPerUnit?: WireInt64;
  capability?: number;
  constraint?: string;
}

export interface PaymentMessage {
  ticketParams?: TicketParamsMessage | null;
  sender?: WireBytes;
  expirationParams?: TicketExpirationParamsMessage | null;
  ticketSenderParams?: TicketSenderParamsMessage[];
  expectedPrice?: PriceInfoMessage | null;
}

export function expirationParamsToMessage(value: TicketExpirationParams): TicketExpirationParamsMessage {
  return {
    creationRound: writeInt64(value.creationRound, 'creation_round'),
    creationRoundBlockHash: writeFixed(
      value.creationRoundBlockHash,
      HASH_LENGTH,
      'creation_round_block_hash',
    ),
  };
}

/** go-livepeer's round is an int64 but feeds a uint256 in auxData: a negative one cannot be honest. */
export function expirationParamsFromMessage(message: TicketExpirationParamsMessage): TicketExpirationParams {
  const creationRound = readInt64(message.creationRound);
  if (creationRound < 0n) throw invalidField('creation_round must not be negative');
  return { creationRound, creationRoundBlockHash: readFixed(message.creationRoundBlockHash, HASH_LENGTH) };
}

export function ticketParamsToMessage(value: TicketParams): TicketParamsMessage {
  return {
    recipient: writeFixed(value.recipient, ADDRESS_LENGTH, 'recipient'),
    faceValue: writeUint256(value.faceValue, 'face_value'),
    winProb: writeUint256(value.winProb, 'win_prob'),
    recipientRandHash: writeFixed(value.recipientRandHash, HASH_LENGTH, 'recipient_rand_hash'),
    seed: writeUint256(value.seed, 'seed'),
    expirationBlock: writeUint256(value.expirationBlock, 'expiration_block'),
    expirationParams: value.expirationParams && expirationParamsToMessage(value.expirationParams),
  };
}

export function ticketParamsFromMessage(message: TicketParamsMessage): TicketParams {
  const params: TicketParams = {
    recipient: readFixed(message.recipient, ADDRESS_LENGTH),
    faceValue: readUint256(message.faceValue, 'face_value'),
    winProb: readUint256(message.winProb, 'win_prob'),
    recipientRandHash: readFixed(message.recipientRandHash, HASH_LENGTH),
    seed: readUint256(message.seed, 'seed'),
    expirationBlock: readUint256(message.expirationBlock, 'expiration_block'),
  };
  if (message.expirationParams)
    params.expirationParams = expirationParamsFromMessage(message.expirationParams);
  return params;
}

export function senderParamsToMessage(value: TicketSenderParams): TicketSenderParamsMessage {
  if (!(value.sig instanceof Uint8Array)) throw invalidField('sig must be bytes');
  return {
    senderNonce: writeUint32(value.senderNonce, 'sender_nonce'),
    sig: value.sig.length > 0 ? value.sig : undefined,
  };
}

/** The signature is kept verbatim: judging it (length, v, s) is the validator's job. */
export function senderParamsFromMessage(message: TicketSenderParamsMessage): TicketSenderParams {
  return { senderNonce: readUint32(message.senderNonce), sig: readBytes(message.sig) };
}

export function priceInfoToMessage(value: PriceInfo): PriceInfoMessage {
  if (typeof value.constraint !== 'string') throw invalidField('constraint must be a string');
  return {
    pricePerUnit: writeInt64(value.pricePerUnit, 'pricePerUnit'),
    pixelsPerUnit: writeInt64(value.pixelsPerUnit, 'pixelsPerUnit'),
    capability: writeUint32(value.capability, 'capability'),
    constraint: value.constraint === '' ? undefined : value.constraint,
  };
}

/** Kept as sent (even a zero or negative price): `pricePerPixel` in #app/ticket judges it. */
export function priceInfoFromMessage(message: PriceInfoMessage): PriceInfo {
  return {
    pricePerUnit: readInt64(message.pricePerUnit),
    pixelsPerUnit: readInt64(message.pixelsPerUnit),
    capability: readUint32(message.capability),
    constraint: message.constraint ?? '',
  };
}

export function paymentToMessage(value: Payment): PaymentMessage {
  return {
    ticketParams: value.ticketParams && ticketParamsToMessage(value.ticketParams),
    sender: value.sender && writeFixed(value.sender, ADDRESS_LENGTH, 'sender'),
    expirationParams: value.expirationParams && expirationParamsToMessage(value.expirationParams),
    ticketSenderParams: value.ticketSenderParams.map(senderParamsToMessage),
    expectedPrice: value.expectedPrice && priceInfoToMessage(value.expectedPrice),
  };
}

/** An empty sender field means "no sender" (go-livepeer refuses such a payment when it has tickets). */
export function paymentFromMessage(message: PaymentMessage): Payment {
  const sender = readBytes(message.sender);
  const payment: Payment = {
    ticketSenderParams: (message.ticketSenderParams ?? []).map(senderParamsFromMessage),
  };
  if (message.ticketParams) payment.ticketParams = ticketParamsFromMessage(message.ticketParams);
  if (sender.length > 0) payment.sender = readFixed(sender, ADDRESS_LENGTH);
  if (message.expirationParams)
    payment.expirationParams = expirationParamsFromMessage(message.expirationParams);
  if (message.expectedPrice) payment.expectedPrice = priceInfoFromMessage(message.expectedPrice);
  return payment;
}

export const ticketExpirationParamsCodec = messageCodec(
  protoTypes.TicketExpirationParams,
  expirationParamsToMessage,
  expirationParamsFromMessage,
);
export const ticketParamsCodec = messageCodec(
  protoTypes.TicketParams,
  ticketParamsToMessage,
  ticketParamsFromMessage,
);
export const ticketSenderParamsCodec = messageCodec(
  protoTypes.TicketSenderParams,
  senderParamsToMessage,
  senderParamsFromMessage,
);
export const priceInfoCodec = messageCodec(protoTypes.PriceInfo, priceInfoToMessage, priceInfoFromMessage);
export const paymentCodec = messageCodec(protoTypes.Payment, paymentToMessage, paymentFromMessage);
