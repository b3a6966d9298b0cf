import fc from 'fast-check';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { describe, expect, it } from 'vitest';
import {
  addressTextProblem,
  bytesToHex,
  keccak256,
  keccakImplementation,
  parseAddress,
  toChecksumAddress,
} from '#app/ticket';

describe('keccak256', () => {
  it('uses the WebAssembly hasher here and returns Ethereum Keccak-256 (not SHA3)', () => {
    expect(keccakImplementation).toBe('wasm');
    expect(bytesToHex(keccak256(new Uint8Array(0)))).toBe(
      '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470',
    );
  });

  it('equals the pure-JS hasher on random inputs, including multi-block ones', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (data) => {
        expect(bytesToHex(keccak256(data))).toBe(bytesToHex(keccak_256(data)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('addresses', () => {
  it('prints EIP-55 checksums and accepts only valid mixed-case input', () => {
    const address = parseAddress('0x70997970c51812dc3a010c7d01b50e0d17dc79c8');
    expect(toChecksumAddress(address)).toBe('0x70997970C51812dc3A010C7d01b50e0d17dc79C8');
    expect(bytesToHex(parseAddress('0x70997970C51812DC3A010C7D01B50E0D17DC79C8'))).toBe(bytesToHex(address));
    expect(() => parseAddress('0x70997970C51812dc3A010C7d01b50e0d17dc79c8')).toThrow(
      'invalid EIP-55 checksum',
    );
    expect(() => parseAddress('0x1234')).toThrow('address must be 20 bytes');
  });

  it('says what is wrong with an address written in text, by the same checksum rule', () => {
    expect(addressTextProblem('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')).toBeNull();
    expect(addressTextProblem('0x70997970c51812dc3a010c7d01b50e0d17dc79c8')).toBeNull();
    expect(addressTextProblem('0x70997970C51812DC3A010C7D01B50E0D17DC79C8')).toBeNull();
    expect(addressTextProblem('0x70997970C51812dc3A010C7d01b50e0d17dc79c8')).toBe('checksum');
    for (const bad of [
      '0x1234',
      '70997970c51812dc3a010c7d01b50e0d17dc79c8',
      '0x70997970c51812dc3a010c7d01b50e0d17dc79cg',
    ])
      expect(addressTextProblem(bad)).toBe('malformed');
  });
});
