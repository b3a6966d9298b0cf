import { bytesToHex, hexToBytes, MAX_UINT256, recipientRandHash, redeemedTicketHash } from '#app/ticket';

/*
 * The TicketBroker calldata and events of redemption, encoded and decoded by hand. ethers' ABI
 * coder is generic: per ticket it builds coder objects, checksums both addresses (Keccak) and
 * copies every value through hex ↔ bytes several times, which made ABI work the Redeemer's largest
 * CPU cost per winner. These shapes are fixed by the contract, so plain hex words do; the specs
 * check every function here against ethers' own encoding and decoding.
 */

/** `Ticket` of TicketBroker: `(address,address,uint256,uint256,uint256,bytes32,bytes)`. */
export interface TicketTuple {
  recipient: string;
  sender: string;
  faceValue: bigint;
  winProb: bigint;
  senderNonce: bigint;
  recipientRandHash: string;
  /** 0x-prefixed, any length. */
  auxData: string;
}

/** One ticket's redemption arguments. */
export interface RedeemArgs {
  ticket: TicketTuple;
  /** 0x-prefixed signature bytes. */
  sig: string;
  recipientRand: bigint;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const BYTES = /^0x(?:[0-9a-fA-F]{2})*$/;

function uint(value: bigint, field: string): string {
  if (value < 0n || value > MAX_UINT256) throw new RangeError(`${field} is not a uint256`);
  return value.toString(16).padStart(64, '0');
}

function address(value: string, field: string): string {
  if (!ADDRESS.test(value)) throw new TypeError(`${field} is not an address`);
  return value.slice(2).toLowerCase().padStart(64, '0');
}

function bytes32(value: string, field: string): string {
  if (!BYTES32.test(value)) throw new TypeError(`${field} is not 32 bytes`);
  return value.slice(2).toLowerCase();
}

/** A `bytes` value's tail: length word, then the bytes right-padded to whole words. */
function bytesTail(value: string, field: string): string {
  if (!BYTES.test(value)) throw new TypeError(`${field} is not hex bytes`);
  const hex = value.slice(2).toLowerCase();
  return uint(BigInt(hex.length / 2), field) + hex.padEnd(Math.ceil(hex.length / 64) * 64, '0');
}

const offset = (hexChars: number) => uint(BigInt(hexChars / 2), 'offset');

function ticketTuple(t: TicketTuple): string {
  return (
    address(t.recipient, 'recipient') +
    address(t.sender, 'sender') +
    uint(t.faceValue, 'faceValue') +
    uint(t.winProb, 'winProb') +
    uint(t.senderNonce, 'senderNonce') +
    bytes32(t.recipientRandHash, 'recipientRandHash') +
    offset(7 * 64) +
    bytesTail(t.auxData, 'auxData')
  );
}

/** An array of dynamic items: length, offsets from after the length word, then the items. */
function dynamicArray(items: readonly string[]): string {
  let head = uint(BigInt(items.length), 'length');
  let at = items.length * 64;
  for (const item of items) {
    head += offset(at);
    at += item.length;
  }
  return head + items.join('');
}

/** Calldata of `redeemWinningTicket(Ticket,bytes,uint256)`; `selector` is its 0x-prefixed 4-byte selector. */
export function encodeRedeemCall(selector: string, a: RedeemArgs): string {
  const tuple = ticketTuple(a.ticket);
  return (
    selector +
    offset(3 * 64) +
    offset(3 * 64 + tuple.length) +
    uint(a.recipientRand, 'recipientRand') +
    tuple +
    bytesTail(a.sig, 'sig')
  );
}

/** Calldata of `batchRedeemWinningTickets(Ticket[],bytes[],uint256[])`. */
export function encodeBatchRedeemCall(selector: string, all: readonly RedeemArgs[]): string {
  const tickets = dynamicArray(all.map((a) => ticketTuple(a.ticket)));
  const sigs = dynamicArray(all.map((a) => bytesTail(a.sig, 'sig')));
  const rands =
    uint(BigInt(all.length), 'length') + all.map((a) => uint(a.recipientRand, 'recipientRand')).join('');
  return (
    selector +
    offset(3 * 64) +
    offset(3 * 64 + tickets.length) +
    offset(3 * 64 + tickets.length + sigs.length) +
    tickets +
    sigs +
    rands
  );
}

/** A log as a receipt carries it. */
export interface RawLog {
  topics: readonly string[];
  data: string;
}

function wordAt(data: string, index: number): bigint {
  const hex = data.slice(2 + index * 64, 2 + (index + 1) * 64);
  if (hex.length !== 64) throw new RangeError('log data too short');
  return BigInt(`0x${hex}`);
}

const topicAddress = (topic: string) => `0x${topic.slice(26).toLowerCase()}`;

/** `WinningTicketTransfer(address indexed sender, address indexed recipient, uint256 amount)`: the amount. */
export function decodeTransferAmount(log: RawLog): bigint {
  return wordAt(log.data, 0);
}

/** The redeemed ticket a `WinningTicketRedeemed` log names, and its ticket hash. */
export interface RedeemedLog {
  /** 0x-prefixed lowercase hex: keccak256 of the packed ticket, as the contract computes it. */
  ticketHash: string;
  sender: string;
  recipient: string;
  faceValue: bigint;
}

/**
 * `WinningTicketRedeemed(address indexed sender, address indexed recipient, uint256 faceValue,
 * uint256 winProb, uint256 senderNonce, uint256 recipientRand, bytes auxData)`, with the ticket
 * hash rebuilt from its fields by the ticket library (`redeemedTicketHash`, `recipientRandHash`).
 */
export function decodeRedeemed(log: RawLog): RedeemedLog {
  const sender = topicAddress(log.topics[1]);
  const recipient = topicAddress(log.topics[2]);
  const words = log.data.slice(2);
  const auxAt = Number(wordAt(log.data, 4)) * 2;
  const auxLength = Number(BigInt(`0x${words.slice(auxAt, auxAt + 64)}`)) * 2;
  const auxData = words.slice(auxAt + 64, auxAt + 64 + auxLength);
  if (auxData.length !== auxLength) throw new RangeError('log auxData out of bounds');
  const faceValue = wordAt(log.data, 0);
  const hash = redeemedTicketHash({
    recipient: hexToBytes(recipient, 'recipient'),
    sender: hexToBytes(sender, 'sender'),
    faceValue,
    winProb: wordAt(log.data, 1),
    senderNonce: wordAt(log.data, 2),
    recipientRandHash: recipientRandHash(wordAt(log.data, 3)),
    auxData: hexToBytes(`0x${auxData}`, 'auxData'),
  });
  return { ticketHash: bytesToHex(hash), sender, recipient, faceValue };
}
