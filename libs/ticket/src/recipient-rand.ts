import { createHmac } from 'node:crypto';
import { auxData } from './aux-data.js';
import { ADDRESS_LENGTH } from './constants.js';
import { assertLength, assertUint256, bytesToBigInt, equalBytes, minBytes, uint256Bytes } from './bytes.js';
import { invalidInput } from './errors.js';
import { keccak256 } from './keccak.js';
import type { Rational } from './rational.js';
import type { Address, Bytes32, TicketExpirationParams, TicketParams } from './types.js';

/** The fields O binds into recipientRand (§5.1); tampering with any of them breaks the commitment. */
export interface RecipientRandInput extends TicketExpirationParams {
  seed: bigint;
  sender: Address;
  faceValue: bigint;
  winProb: bigint;
  expirationBlock: bigint;
  pricePerPixel: Rational;
}

/** Where the HMAC fields come from: the params O issues, or a received batch (a TicketBatch is one). */
export interface RecipientRandSource {
  sender: Address;
  params: Pick<TicketParams, 'seed' | 'faceValue' | 'winProb' | 'expirationBlock'>;
  pricePerPixel: Rational;
  expirationParams: TicketExpirationParams;
}

/**
 * The recipientRand input of params or of a batch: the one place that says which fields the
 * commitment binds, for issuing params and for checking the tickets paid against them.
 */
export function recipientRandInput(source: RecipientRandSource): RecipientRandInput {
  const { sender, params, pricePerPixel, expirationParams } = source;
  return {
    seed: params.seed,
    sender,
    faceValue: params.faceValue,
    winProb: params.winProb,
    expirationBlock: params.expirationBlock,
    pricePerPixel,
    creationRound: expirationParams.creationRound,
    creationRoundBlockHash: expirationParams.creationRoundBlockHash,
  };
}

/**
 * HMAC message: minbytes(seed) ‖ sender ‖ minbytes(faceValue) ‖ minbytes(winProb) ‖
 * minbytes(expirationBlock) ‖ minbytes(price.num) ‖ minbytes(price.den) ‖ auxData, with no
 * length prefixes. go-livepeer writes integers with `big.Int.Bytes()`, hence minbytes.
 */
export function recipientRandMessage(input: RecipientRandInput): Uint8Array {
  assertUint256(input.seed, 'seed');
  assertLength(input.sender, ADDRESS_LENGTH, 'sender');
  assertUint256(input.faceValue, 'faceValue');
  assertUint256(input.winProb, 'winProb');
  assertUint256(input.expirationBlock, 'expirationBlock');
  if (input.pricePerPixel.sign() < 0) throw invalidInput('pricePerPixel must not be negative');
  return Buffer.concat([
    minBytes(input.seed),
    input.sender,
    minBytes(input.faceValue),
    minBytes(input.winProb),
    minBytes(input.expirationBlock),
    minBytes(input.pricePerPixel.num),
    minBytes(input.pricePerPixel.den),
    auxData(input),
  ]);
}

/** recipientRands remembered per secret before the memory is simply dropped. */
const MAX_REMEMBERED_RANDS = 4_096;

/**
 * recipientRands already computed, per secret (the array given, with a copy of its bytes so a
 * secret changed in place is never matched), by HMAC message. A recipient receives payment after
 * payment against the same params: each would otherwise build a native HMAC for the same answer.
 */
const remembered = new WeakMap<Uint8Array, { secret: Uint8Array; rands: Map<string, bigint> }>();

/** recipientRand = uint256(HMAC-SHA256(secret, message)); only O, holding the secret, can compute it. */
export function computeRecipientRand(secret: Uint8Array, input: RecipientRandInput): bigint {
  if (!(secret instanceof Uint8Array) || secret.length === 0)
    throw invalidInput('secret must be non-empty bytes');
  const message = recipientRandMessage(input);
  let memory = remembered.get(secret);
  if (!memory || !equalBytes(memory.secret, secret)) {
    memory = { secret: secret.slice(), rands: new Map() };
    remembered.set(secret, memory);
  }
  const key = Buffer.from(message.buffer, message.byteOffset, message.length).toString('latin1');
  let rand = memory.rands.get(key);
  if (rand === undefined) {
    rand = bytesToBigInt(createHmac('sha256', secret).update(message).digest());
    if (memory.rands.size >= MAX_REMEMBERED_RANDS) memory.rands.clear();
    memory.rands.set(key, rand);
  }
  return rand;
}

/** keccak256(u256(recipientRand)): the commitment O publishes in TicketParams. */
export function recipientRandHash(recipientRand: bigint): Bytes32 {
  assertUint256(recipientRand, 'recipientRand');
  return keccak256(uint256Bytes(recipientRand));
}
