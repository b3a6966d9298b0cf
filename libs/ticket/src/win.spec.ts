import { describe, expect, it } from 'vitest';
import {
  MAX_WIN_PROB,
  WinChecker,
  bytesToHex,
  hexToBytes,
  isWinningTicket,
  uint256Bytes,
  winRandomness,
} from '#app/ticket';
import { EXAMPLE } from '../test/fixtures.js';

const sig = hexToBytes(EXAMPLE.sig, 'sig', 65);
const draw = winRandomness(sig, EXAMPLE.recipientRand);

describe('win check (§4)', () => {
  it('computes the §2.3 draw, which loses against the example winProb', () => {
    expect(bytesToHex(uint256Bytes(draw))).toMatch(/^0xa1a4df7b[0-9a-f]+70f8b0$/);
    expect(
      isWinningTicket(
        sig,
        EXAMPLE.recipientRand,
        0x6fd91d84bcda58175fdfab3d77a168e2893e4958803b6b57ae84efcbf000n,
      ),
    ).toBe(false);
  });

  it('wins iff draw < winProb, strictly', () => {
    expect(isWinningTicket(sig, EXAMPLE.recipientRand, draw)).toBe(false);
    expect(isWinningTicket(sig, EXAMPLE.recipientRand, draw + 1n)).toBe(true);
    expect(isWinningTicket(sig, EXAMPLE.recipientRand, 0n)).toBe(false);
    expect(isWinningTicket(sig, EXAMPLE.recipientRand, MAX_WIN_PROB)).toBe(true);
  });

  it('reuses its buffers across signatures without mixing them up', () => {
    const checker = new WinChecker(EXAMPLE.recipientRand, draw + 1n);
    const other = sig.slice();
    other[0] ^= 0xff;
    const otherDraw = checker.draw(other);
    expect(checker.isWinning(sig)).toBe(true);
    expect(bytesToHex(checker.draw(other))).toBe(bytesToHex(otherDraw));
    expect(() => checker.draw(sig.subarray(0, 64))).toThrow(RangeError);
  });
});
