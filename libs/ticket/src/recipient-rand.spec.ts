import { describe, expect, it } from 'vitest';
import {
  Rational,
  bytesToHex,
  committedRecipientRand,
  computeRecipientRand,
  recipientRandHash,
  recipientRandInput,
  recipientRandMessage,
  winProbForEV,
  type RecipientRandInput,
} from '#app/ticket';
import { EXAMPLE, SECRET, SENDER } from '../test/fixtures.js';

const example: RecipientRandInput = {
  seed: EXAMPLE.seed,
  sender: SENDER,
  faceValue: EXAMPLE.faceValue,
  winProb: winProbForEV(EXAMPLE.ev, EXAMPLE.faceValue),
  expirationBlock: EXAMPLE.expirationBlock,
  pricePerPixel: EXAMPLE.price,
  ...EXAMPLE.expirationParams,
};

/** One change to each field the commitment binds. */
const FIELD_CHANGES: Partial<RecipientRandInput>[] = [
  { seed: example.seed + 1n },
  { sender: new Uint8Array(20).fill(1) },
  { faceValue: example.faceValue + 1n },
  { winProb: example.winProb + 1n },
  { expirationBlock: example.expirationBlock + 1n },
  { pricePerPixel: Rational.of(1201n) },
  { creationRound: 3501n },
  { creationRoundBlockHash: new Uint8Array(32).fill(0xac) },
];

describe('recipientRand (§5.1)', () => {
  it('reproduces the HMAC example: 160-byte message, known value and hash', () => {
    expect(recipientRandMessage(example)).toHaveLength(32 + 20 + 7 + 30 + 4 + 2 + 1 + 64);
    const rand = computeRecipientRand(SECRET, example);
    expect(rand).toBe(EXAMPLE.recipientRand);
    expect(bytesToHex(recipientRandHash(rand))).toBe(
      '0x444275b1e20d40becbca48c8ecb7e58d355f4fdb0be4000e0b7f803a7ad66118',
    );
  });

  it('checks a commitment, remembered only for the exact input that held, never across a secret changed in place', () => {
    const secret = SECRET.slice();
    const commitment = recipientRandHash(EXAMPLE.recipientRand);
    expect(committedRecipientRand(secret, example, commitment)).toBe(EXAMPLE.recipientRand);
    // Remembered, and still asked of every field: any change to the input misses the commitment.
    expect(committedRecipientRand(secret, example, commitment)).toBe(EXAMPLE.recipientRand);
    for (const variant of FIELD_CHANGES)
      expect(committedRecipientRand(secret, { ...example, ...variant }, commitment)).toBeUndefined();
    // The remembered input is a copy: changing the caller's arrays afterwards changes nothing.
    const sender = example.sender.slice();
    const fresh = SECRET.slice();
    expect(committedRecipientRand(fresh, { ...example, sender }, commitment)).toBe(EXAMPLE.recipientRand);
    sender[0] ^= 1;
    expect(committedRecipientRand(fresh, { ...example, sender }, commitment)).toBeUndefined();
    secret[0] ^= 1;
    expect(committedRecipientRand(secret, example, commitment)).toBeUndefined();
    expect(() => committedRecipientRand(new Uint8Array(0), example, commitment)).toThrow('secret');
  });

  it('builds the same input from issued params as from the batch paying against them', () => {
    const params = {
      seed: example.seed,
      faceValue: example.faceValue,
      winProb: example.winProb,
      expirationBlock: example.expirationBlock,
    };
    const expirationParams = EXAMPLE.expirationParams;
    const fromParams = recipientRandInput({
      sender: SENDER,
      params,
      pricePerPixel: EXAMPLE.price,
      expirationParams,
    });
    expect(fromParams).toEqual(example);
    const batch = {
      params: {
        ...params,
        recipient: new Uint8Array(20),
        recipientRandHash: new Uint8Array(32),
        expirationParams,
      },
      expirationParams,
      sender: SENDER,
      pricePerPixel: EXAMPLE.price,
      senderParams: [],
    };
    expect(computeRecipientRand(SECRET, recipientRandInput(batch))).toBe(EXAMPLE.recipientRand);
  });

  it('hashes recipientRand as a uint256 (TicketBroker vector: rand 5)', () => {
    expect(bytesToHex(recipientRandHash(5n))).toBe(
      '0x036b6384b5eca791c62761152d0c79bb0604c104a5fb6f4eb0703f3154bb3db0',
    );
  });

  it('writes a zero price as empty numerator and denominator 0x01, and zero fields as nothing', () => {
    const message = recipientRandMessage({
      ...example,
      seed: 0n,
      faceValue: 0n,
      winProb: 0n,
      pricePerPixel: Rational.of(0n, 5n),
      creationRound: 0n,
      creationRoundBlockHash: new Uint8Array(32),
    });
    expect(bytesToHex(message)).toBe(`${bytesToHex(SENDER)}01312d2801`);
  });

  it('binds every field: changing any one changes recipientRand', () => {
    const base = computeRecipientRand(SECRET, example);
    for (const variant of FIELD_CHANGES)
      expect(computeRecipientRand(SECRET, { ...example, ...variant })).not.toBe(base);
    expect(computeRecipientRand(new Uint8Array(32).fill(0x12), example)).not.toBe(base);
  });

  it('refuses a negative price and an empty secret', () => {
    expect(() => recipientRandMessage({ ...example, pricePerPixel: Rational.of(-1n) })).toThrow(
      'pricePerPixel',
    );
    expect(() => computeRecipientRand(new Uint8Array(0), example)).toThrow('secret');
  });
});
