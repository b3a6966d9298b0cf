import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_UINT256,
  bytesToBigInt,
  bytesToHex,
  fitBytes,
  hexToBytes,
  minBytes,
  uint256Bytes,
  uint256Text,
} from '#app/ticket';
import { slabBytes, writeUint256 } from './bytes.js';

describe('byte helpers', () => {
  it('encodes integers as Go big.Int.Bytes(): empty for 0, no leading zeros', () => {
    expect(minBytes(0n)).toHaveLength(0);
    expect(bytesToHex(minBytes(1n))).toBe('0x01');
    expect(bytesToHex(minBytes(0x100n))).toBe('0x0100');
    expect(bytesToHex(minBytes(20_000_040n))).toBe('0x01312d28');
    expect(() => minBytes(-1n)).toThrow('negative');
  });

  it('hex-encodes exactly the bytes of a view, not its whole buffer', () => {
    const whole = Uint8Array.from([0xaa, 0x00, 0x0f, 0xf0, 0xff, 0xbb]);
    expect(bytesToHex(whole.subarray(1, 5))).toBe('0x000ff0ff');
    expect(bytesToHex(whole.subarray(3, 3))).toBe('0x');
    expect(bytesToHex(whole)).toBe('0xaa000ff0ffbb');
  });

  it('reads unsigned big-endian bytes, tolerating leading zeros', () => {
    expect(bytesToBigInt(new Uint8Array(0))).toBe(0n);
    expect(bytesToBigInt(Uint8Array.of(0, 0, 1, 0))).toBe(256n);
  });

  it('reads and hex-encodes any length, from a view at any offset, as the big-endian hex it spells', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(7), (bytes, pad) => {
        const view = new Uint8Array(pad + bytes.length + 3).fill(0xee).subarray(pad, pad + bytes.length);
        view.set(bytes);
        const hex = Buffer.from(bytes).toString('hex');
        expect(bytesToBigInt(view)).toBe(hex === '' ? 0n : BigInt(`0x${hex}`));
        expect(bytesToHex(view)).toBe(`0x${hex}`);
      }),
    );
  });

  it('writes u256 into its 32 bytes at an offset and nowhere else', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_UINT256 }), fc.nat(9), (n, offset) => {
        const target = new Uint8Array(offset + 36).fill(0xee);
        writeUint256(target.subarray(1), offset, n);
        expect(Buffer.from(target.subarray(offset + 1, offset + 33)).toString('hex')).toBe(
          n.toString(16).padStart(64, '0'),
        );
        expect(
          [...target.subarray(0, offset + 1), ...target.subarray(offset + 33)].every((b) => b === 0xee),
        ).toBe(true);
      }),
    );
  });

  it('round-trips random uint256 values through minbytes and u256', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_UINT256 }), (n) => {
        expect(bytesToBigInt(minBytes(n))).toBe(n);
        expect(bytesToBigInt(uint256Bytes(n))).toBe(n);
        expect(uint256Bytes(n)).toHaveLength(32);
      }),
    );
  });

  it('fits bytes like go-ethereum BytesToAddress: last N bytes, left-padded', () => {
    expect(bytesToHex(fitBytes(Uint8Array.of(1, 2), 4))).toBe('0x00000102');
    expect(bytesToHex(fitBytes(Uint8Array.of(1, 2, 3, 4, 5), 4))).toBe('0x02030405');
    expect(fitBytes(new Uint8Array(0), 20)).toEqual(new Uint8Array(20));
  });

  it('parses only 0x-prefixed, even-length hex of the required length', () => {
    expect(bytesToHex(hexToBytes('0xABcd', 'x'))).toBe('0xabcd');
    for (const bad of ['abcd', '0xabc', '0xzz', ''])
      expect(() => hexToBytes(bad, 'x')).toThrow('x must be 0x-prefixed');
    expect(() => hexToBytes('0xab', 'x', 2)).toThrow('x must be 2 bytes, got 1');
  });
});

describe('uint256Text', () => {
  it('reads decimal wei up to uint256 and nothing else', () => {
    expect(uint256Text('0')).toBe(0n);
    expect(uint256Text(MAX_UINT256.toString())).toBe(MAX_UINT256);
    for (const bad of [
      (MAX_UINT256 + 1n).toString(),
      '9'.repeat(78),
      '-1',
      '1.5',
      '1e18',
      ' 1',
      '',
      '0x10',
      10,
      undefined,
    ]) {
      expect(uint256Text(bad)).toBeUndefined();
    }
  });
});

describe('slabBytes', () => {
  it('gives zeroed arrays of the length asked, disjoint from each other, across slab boundaries', () => {
    const taken = Array.from({ length: 200 }, (_, i) => slabBytes(65 + (i % 448)));
    taken.forEach((bytes, i) => {
      expect(bytes).toHaveLength(65 + (i % 448));
      expect(bytes.every((b) => b === 0)).toBe(true);
    });
    taken.forEach((bytes, i) => bytes.fill((i % 255) + 1));
    taken.forEach((bytes, i) => expect(bytes.every((b) => b === (i % 255) + 1)).toBe(true));
  });

  it('gives short arrays (kept on the heap anyway) and long ones buffers of their own', () => {
    for (const length of [0, 32, 64, 513, 4096]) {
      const bytes = slabBytes(length);
      expect(bytes).toHaveLength(length);
      expect(bytes.buffer.byteLength).toBe(length);
    }
  });
});
