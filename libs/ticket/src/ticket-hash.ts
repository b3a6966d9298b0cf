import { auxData } from './aux-data.js';
import { ADDRESS_LENGTH, HASH_LENGTH, MAX_SENDER_NONCE } from './constants.js';
import { assertLength, assertUint256, slabBytes, writeUint256 } from './bytes.js';
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

const TICKET_HASH_TEXT = /^0x[0-9a-fA-F]{64}$/;

/**
 * A ticket hash as text from outside (a URL, a command line, a job), in the one form it is stored
 * and keyed under (`winning_ticket.ticket_hash`, the job id): `0x` and 64 lowercase hex digits.
 * Undefined when it is not a ticket hash; each caller refuses in its own error type.
 */
export function ticketHashText(raw: unknown): string | undefined {
  return typeof raw === 'string' && TICKET_HASH_TEXT.test(raw) ? raw.toLowerCase() : undefined;
}

export function assertSenderNonce(nonce: number): void {
  if (!Number.isInteger(nonce) || nonce < 0 || nonce > MAX_SENDER_NONCE) {
    throw invalidInput('senderNonce must be a uint32');
  }
}

/** The fields of the packed ticket other than the nonce and auxData. */
type PackedFields = Pick<
  TicketTemplate,
  'recipient' | 'sender' | 'faceValue' | 'winProb' | 'recipientRandHash'
>;

function assertTemplate(t: PackedFields): void {
  assertLength(t.recipient, ADDRESS_LENGTH, 'recipient');
  assertLength(t.sender, ADDRESS_LENGTH, 'sender');
  assertUint256(t.faceValue, 'faceValue');
  assertUint256(t.winProb, 'winProb');
  assertLength(t.recipientRandHash, HASH_LENGTH, 'recipientRandHash');
}

/** The packed layout, its nonce word left zero. */
function packTicket(t: PackedFields, aux: Uint8Array): Uint8Array {
  const packed = slabBytes(AUX_OFFSET + aux.length);
  packed.set(t.recipient, 0);
  packed.set(t.sender, 20);
  writeUint256(packed, 40, t.faceValue);
  writeUint256(packed, 72, t.winProb);
  packed.set(t.recipientRandHash, NONCE_END);
  packed.set(aux, AUX_OFFSET);
  return packed;
}

/**
 * Hashes the tickets of one batch. The packed encoding is built once and only the four nonce
 * bytes change per ticket, so hashing a ticket costs one Keccak over a reused buffer.
 */
export class TicketHasher {
  private readonly packed: Uint8Array;

  constructor(template: TicketTemplate) {
    assertTemplate(template);
    this.packed = packTicket(template, auxData(template));
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

/**
 * The contract's hash of any ticket it redeemed (a `WinningTicketRedeemed` log): the nonce is a
 * uint256 and auxData any bytes there, where the tickets made here carry a uint32 nonce and an
 * auxData built from the creation round.
 */
export function redeemedTicketHash(
  ticket: PackedFields & { senderNonce: bigint; auxData: Uint8Array },
): Uint8Array {
  assertTemplate(ticket);
  assertUint256(ticket.senderNonce, 'senderNonce');
  const packed = packTicket(ticket, ticket.auxData);
  writeUint256(packed, NONCE_END - 32, ticket.senderNonce);
  return keccak256(packed);
}
