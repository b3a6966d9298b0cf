import type { Rational } from './rational.js';

/** 20-byte Ethereum address, raw bytes. */
export type Address = Uint8Array;
/** 32 raw bytes (hashes). */
export type Bytes32 = Uint8Array;

/** The round the ticket was created in and that round's L1 block hash; they make up auxData (§2.2). */
export interface TicketExpirationParams {
  creationRound: bigint;
  creationRoundBlockHash: Bytes32;
}

/** O's advertised parameters (proto `TicketParams`). The price travels separately as PriceInfo. */
export interface TicketParams {
  recipient: Address;
  faceValue: bigint;
  winProb: bigint;
  recipientRandHash: Bytes32;
  /** 32 random bytes from O, carried as an integer because the wire and the HMAC use minbytes. */
  seed: bigint;
  /** L1 block after which the params are no longer accepted. */
  expirationBlock: bigint;
  /** Filled by O (nested field 7); absent in a Payment, whose own expiration params count. */
  expirationParams?: TicketExpirationParams;
}

/** Per-ticket part of a batch. */
export interface TicketSenderParams {
  /** uint32. */
  senderNonce: number;
  /** 65 bytes r‖s‖v when well-formed; kept as received so the verifier can reject malformed ones. */
  sig: Uint8Array;
}

/** The fields covered by the ticket hash (§2.1), i.e. the contract's Ticket struct with auxData split out. */
export interface TicketHashFields {
  recipient: Address;
  sender: Address;
  faceValue: bigint;
  winProb: bigint;
  senderNonce: number;
  recipientRandHash: Bytes32;
  creationRound: bigint;
  creationRoundBlockHash: Bytes32;
}

/** A ticket as O holds it: the hashed fields plus the params' expiration block. */
export interface Ticket extends TicketHashFields {
  paramsExpirationBlock: bigint;
}

/** A ticket ready for redemption: signature and the revealed recipientRand. */
export interface SignedTicket extends Ticket {
  sig: Uint8Array;
  recipientRand: bigint;
}

/** One set of params, one sender, N signed tickets: the validated form of a Payment (§1). */
export interface TicketBatch {
  params: TicketParams;
  /** The values B put into auxData. */
  expirationParams: TicketExpirationParams;
  sender: Address;
  /** Reduced price per pixel; bound into the recipientRand HMAC. */
  pricePerPixel: Rational;
  senderParams: readonly TicketSenderParams[];
}

/** Proto `PriceInfo`: the price per pixel is pricePerUnit / pixelsPerUnit. */
export interface PriceInfo {
  /** int64. */
  pricePerUnit: bigint;
  /** int64; 0 is invalid. */
  pixelsPerUnit: bigint;
  /** uint32. */
  capability: number;
  constraint: string;
}

/** Proto `Payment` (the `Livepeer-Payment` header). Without tickets B sends only sender and price. */
export interface Payment {
  ticketParams?: TicketParams;
  sender?: Address;
  expirationParams?: TicketExpirationParams;
  ticketSenderParams: TicketSenderParams[];
  expectedPrice?: PriceInfo;
}

/** TicketBroker `getSenderInfo` result. */
export interface SenderInfo {
  deposit: bigint;
  /** 0 when no unlock is in progress. */
  withdrawRound: bigint;
  reserve: { fundsRemaining: bigint; claimedInCurrentRound: bigint };
}
