import { auxData } from './aux-data.js';
import { ADDRESS_LENGTH, HASH_LENGTH, MAX_SENDER_NONCE } from './constants.js';
import { assertLength, assertUint256, writeUint256 } from './bytes.js';
import { invalidInput } from './errors.js';
import { keccak256 } from './keccak.js';
import type { Address, TicketExpirationParams, TicketHashFields, TicketParams } from './types.js';

/** Everything a batch's tickets share: the hashed fields except the nonce. */
export type TicketTemplate = Omit<TicketHashFields, 'senderNonce'>;

/** What a ticket is made from: O's params, the paying sender and the round its auxData names. */
export interface TicketTemplateSource {
  sender: Address;
  params: Pick<TicketParams, 'recipient' | 'faceValue' | 'winProb' | 'recipientRandHash'>;
  expirationParams: TicketExpirationParams;
}

/**
 * The tickets paid against `params` (go-livepeer's `NewTicket`, §2): recipient, face value, win
 * probability and recipientRand commitment from the params, the sender, and creationRound and
 * its block hash from the expiration params. The one place that says which fields a ticket
 * carries, for signing a batch, receiving one and reading a ticket queued for redemption.
 */
export function ticketTemplate(source: TicketTemplateSource): TicketTemplate {
  const { sender, params, expirationParams } = source;
  return {
    recipient: params.recipient,
    sender,
    faceValue: params.faceValue,
    winProb: params.winProb,
    recipientRandHash: params.recipientRandHash,
    creationRound: expirationParams.creationRound,
    creationRoundBlockHash: expirationParams.creationRoundBlockHash,
  };
}

// Packed layout (§2.1): recipient 0..20, sender 20..40, faceValue 40..72, winProb 72..104,
// senderNonce 104..136, recipientRandHash 136..168, auxData 168..232 (or nothing).
const NONCE_END = 136;
const AUX_OFFSET = 168;

export function assertSenderNonce(nonce: number): void {
  if (!Number.isInteger(nonce) || nonce < 0 || nonce > MAX_SENDER_NONCE) {
    throw invalidInput('senderNonce must be a uint32');
  }
}

function assertTemplate(t: TicketTemplate): void {
  assertLength(t.recipient, ADDRESS_LENGTH, 'recipient');
  assertLength(t.sender, ADDRESS_LENGTH, 'sender');
  assertUint256(t.faceValue, 'faceValue');
  assertUint256(t.winProb, 'winProb');
  assertLength(t.recipientRandHash, HASH_LENGTH, 'recipientRandHash');
}

/**
 * Hashes the tickets of one batch. The packed encoding is built once and only the four nonce
 * bytes change per ticket, so hashing a ticket costs one Keccak over a reused buffer.
 */
export class TicketHasher {
  private readonly packed: Uint8Array;

  constructor(template: TicketTemplate) {
    assertTemplate(template);
    const aux = auxData(template);
    this.packed = new Uint8Array(AUX_OFFSET + aux.length);
    this.packed.set(template.recipient, 0);
    this.packed.set(template.sender, 20);
    writeUint256(this.packed, 40, template.faceValue);
    writeUint256(this.packed, 72, template.winProb);
    this.packed.set(template.recipientRandHash, NONCE_END);
    this.packed.set(aux, AUX_OFFSET);
  }

  /** The abi.encodePacked bytes of the ticket with this nonce (a view reused by the next call). */
  encode(senderNonce: number): Uint8Array {
    assertSenderNonce(senderNonce);
    // A uint32 widened to uint256 only touches the last four bytes of its word.
    const p = this.packed;
    p[NONCE_END - 4] = senderNonce >>> 24;
    p[NONCE_END - 3] = (senderNonce >>> 16) & 0xff;
    p[NONCE_END - 2] = (senderNonce >>> 8) & 0xff;
    p[NONCE_END - 1] = senderNonce & 0xff;
    return p;
  }

  hash(senderNonce: number): Uint8Array {
    return keccak256(this.encode(senderNonce));
  }
}

/** abi.encodePacked(recipient, sender, faceValue, winProb, senderNonce, recipientRandHash, auxData): 168 or 232 bytes. */
export function encodeTicket(ticket: TicketHashFields): Uint8Array {
  return new TicketHasher(ticket).encode(ticket.senderNonce).slice();
}

/** keccak256 of the packed ticket: the value the sender signs and the contract's `getTicketHash`. */
export function ticketHash(ticket: TicketHashFields): Uint8Array {
  return new TicketHasher(ticket).hash(ticket.senderNonce);
}
