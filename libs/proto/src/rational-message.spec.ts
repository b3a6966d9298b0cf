import { describe, expect, it } from 'vitest';
import { Rational } from '#app/ticket';
import { rationalMessage } from '#app/proto';

describe('rationalMessage', () => {
  it('writes lowest terms in base 10, the sign on num', () => {
    expect(rationalMessage(Rational.of(6n, 4n))).toEqual({ num: '3', den: '2' });
    expect(rationalMessage(Rational.of(3n, -9n))).toEqual({ num: '-1', den: '3' });
    expect(rationalMessage(Rational.ZERO)).toEqual({ num: '0', den: '1' });
  });

  it('keeps amounts past 2^53 exact', () => {
    const big = 2n ** 255n + 1n;
    expect(rationalMessage(Rational.of(big, 2n ** 128n))).toEqual({
      num: big.toString(),
      den: (2n ** 128n).toString(),
    });
  });
});
