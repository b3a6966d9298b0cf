import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_WIN_PROB, Rational, TicketErrorCode, ticketEV, winProbForEV, winProbRat } from '#app/ticket';

describe('EV and winProb', () => {
  it('computes the §2.3 winProb for EV 8 gwei and face value 0.0012 ETH', () => {
    expect(winProbForEV(8_000_000_000n, 1_200_000_000_000_000n)).toBe(
      771947261582107969490473233391252719021799897770937093596383896000000000n,
    );
  });

  it('handles the edge cases of §5.2 step 4', () => {
    expect(winProbForEV(1000n, 0n)).toBe(0n);
    expect(winProbForEV(1000n, 1000n)).toBe(MAX_WIN_PROB);
    expect(winProbForEV(1n, MAX_WIN_PROB)).toBe(1n);
    expect(() => winProbForEV(1001n, 1000n)).toThrow(
      expect.objectContaining({ code: TicketErrorCode.INVALID_INPUT }),
    );
  });

  it('keeps EV exact and in lowest terms', () => {
    expect(ticketEV(0n, MAX_WIN_PROB)).toEqual(Rational.ZERO);
    expect(ticketEV(7n, MAX_WIN_PROB).toString()).toBe('7/1');
    expect(ticketEV(2n, MAX_WIN_PROB / 5n).toString()).toBe('2/5');
    expect(winProbRat(MAX_WIN_PROB).toString()).toBe('1/1');
  });

  it('answers a repeated (faceValue, winProb) from its last result, and any other pair afresh', () => {
    const first = ticketEV(10n ** 18n, MAX_WIN_PROB / 3n);
    expect(ticketEV(10n ** 18n, MAX_WIN_PROB / 3n)).toBe(first);
    expect(ticketEV(10n ** 18n, MAX_WIN_PROB / 4n).equals(first)).toBe(false);
    expect(ticketEV(2n, MAX_WIN_PROB / 5n).toString()).toBe('2/5');
    expect(() => ticketEV(-1n, MAX_WIN_PROB)).toThrow(
      expect.objectContaining({ code: TicketErrorCode.INVALID_INPUT }),
    );
  });

  it('never lets the real EV fall below the target, nor exceed it by more than EV × faceValue / MAX', () => {
    const faceValues = fc.oneof(
      fc.bigInt({ min: 1n, max: 10n ** 30n }),
      fc.bigInt({ min: 1n, max: MAX_WIN_PROB }),
    );
    fc.assert(
      fc.property(faceValues, fc.bigInt({ min: 0n, max: MAX_WIN_PROB }), (fv, e) => {
        const ev = e % (fv + 1n);
        const winProb = winProbForEV(ev, fv);
        const actual = ticketEV(fv, winProb);
        const target = Rational.of(ev);
        expect(actual.cmp(target)).toBeGreaterThanOrEqual(0);
        if (winProb < MAX_WIN_PROB) {
          expect(actual.sub(target).cmp(Rational.of(ev * fv, MAX_WIN_PROB))).toBeLessThanOrEqual(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('clamps to MAX where EV × ⌈MAX / faceValue⌉ would not fit in a uint256', () => {
    const fv = (1n << 255n) + 1n;
    expect(winProbForEV(fv - 1n, fv)).toBe(MAX_WIN_PROB);
  });
});
