import { createHmac } from 'node:crypto';
import { auxData } from './aux-data.js';
import { ADDRESS_LENGTH } from './constants.js';
import {
  assertLength,
  assertUint256,
  bytesToBigInt,
  bytesToHex,
  equalBytes,
  minBytes,
  uint256Bytes,
} from './bytes.js';
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

function assertSecret(secret: Uint8Array): void {
  if (!(secret instanceof Uint8Array) || secret.length === 0)
    throw invalidInput('secret must be non-empty bytes');
}

/** recipientRand = uint256(HMAC-SHA256(secret, message)); only O, holding the secret, can compute it. */
export function computeRecipientRand(secret: Uint8Array, input: RecipientRandInput): bigint {
  assertSecret(secret);
  return bytesToBigInt(createHmac('sha256', secret).update(recipientRandMessage(input)).digest());
}

/** Commitments checked before, per secret, before the memory is simply dropped. */
const MAX_REMEMBERED_COMMITMENTS = 4_096;

/** A commitment that held: the input it held for and its recipientRand. */
interface HeldCommitment {
  input: RecipientRandInput;
  rand: bigint;
}

/**
 * Commitments that held, per secret (the array given, with a copy of its bytes so a secret
 * changed in place is never matched), by recipientRandHash. A recipient receives payment after
 * payment against the same params: each would otherwise build the HMAC message, run the HMAC and
 * hash its result for the same answer. Only inputs that matched their commitment are kept, so
 * made-up params never fill it.
 */
const held = new WeakMap<Uint8Array, { secret: Uint8Array; byHash: Map<string, HeldCommitment> }>();

function sameInput(a: RecipientRandInput, b: RecipientRandInput): boolean {
  return (
    a.seed === b.seed &&
    a.faceValue === b.faceValue &&
    a.winProb === b.winProb &&
    a.expirationBlock === b.expirationBlock &&
    a.creationRound === b.creationRound &&
    a.pricePerPixel.equals(b.pricePerPixel) &&
    equalBytes(a.sender, b.sender) &&
    equalBytes(a.creationRoundBlockHash, b.creationRoundBlockHash)
  );
}

/**
 * The recipientRand of `input` when its hash is `commitment` (the params' recipientRandHash),
 * else undefined: the commitment check of §6 step 3, remembered per secret for inputs that passed.
 */
export function committedRecipientRand(
  secret: Uint8Array,
  input: RecipientRandInput,
  commitment: Bytes32,
): bigint | undefined {
  assertSecret(secret);
  let memory = held.get(secret);
  if (!memory || !equalBytes(memory.secret, secret)) {
    memory = { secret: secret.slice(), byHash: new Map() };
    held.set(secret, memory);
  }
  const key = bytesToHex(commitment);
  const known = memory.byHash.get(key);
  if (known && sameInput(known.input, input)) return known.rand;
  const rand = computeRecipientRand(secret, input);
  if (!equalBytes(recipientRandHash(rand), commitment)) return undefined;
  if (memory.byHash.size >= MAX_REMEMBERED_COMMITMENTS) memory.byHash.clear();
  // Copies of the byte fields: the caller's arrays may change after this call.
  const kept = {
    ...input,
    sender: input.sender.slice(),
    creationRoundBlockHash: input.creationRoundBlockHash.slice(),
  };
  memory.byHash.set(key, { input: kept, rand });
  return rand;
}

/** keccak256(u256(recipientRand)): the commitment O publishes in TicketParams. */
export function recipientRandHash(recipientRand: bigint): Bytes32 {
  assertUint256(recipientRand, 'recipientRand');
  return keccak256(uint256Bytes(recipientRand));
}
