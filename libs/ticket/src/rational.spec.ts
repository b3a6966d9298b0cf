import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rational } from '#app/ticket';
import { MAX_UINT256_PRIMES, gcd } from './rational.js';

describe('Rational (Go big.Rat semantics)', () => {
  it('normalises like big.Rat: positive denominator, lowest terms, zero as 0/1', () => {
    expect(Rational.of(0n, 5n).toString()).toBe('0/1');
    expect(Rational.of(2400n, 2n).toString()).toBe('1200/1');
    expect(Rational.of(3n, -6n).toString()).toBe('-1/2');
    expect(Rational.of(-4n, -6n).toString()).toBe('2/3');
    expect(() => Rational.of(1n, 0n)).toThrow('denominator is zero');
  });

  it('does exact arithmetic and comparison', () => {
    const third = Rational.of(1n, 3n);
    const half = Rational.of(1n, 2n);
    expect(third.add(half).toString()).toBe('5/6');
    expect(third.sub(half).toString()).toBe('-1/6');
    expect(third.mul(half).toString()).toBe('1/6');
    expect(third.div(half).toString()).toBe('2/3');
    expect(third.cmp(half)).toBe(-1);
    expect(half.cmp(third)).toBe(1);
    expect(half.equals(Rational.of(2n, 4n))).toBe(true);
    expect(() => half.div(Rational.ZERO)).toThrow('denominator is zero');
    expect(JSON.stringify(Rational.of(6n, 4n))).toBe('{"num":"3","den":"2"}');
  });

  it.each([
    [1n, 3n, 5, '0.33333'],
    [2n, 3n, 5, '0.66667'],
    [1n, 200000n, 5, '0.00001'],
    [1n, 400000n, 5, '0.00000'],
    [-1n, 200000n, 5, '-0.00001'],
    [999999n, 1000000n, 5, '1.00000'],
    [3n, 2n, 0, '2'],
    [7n, 1n, 2, '7.00'],
  ])('prints %d/%d with %d decimals like FloatString: %s', (num, den, prec, expected) => {
    expect(Rational.of(num, den).toDecimalString(prec)).toBe(expected);
  });

  it('keeps a/b and ka/kb equal, and ordering consistent with cross-multiplication', () => {
    const int = fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n });
    const pos = fc.bigInt({ min: 1n, max: 10n ** 40n });
    fc.assert(
      fc.property(int, pos, pos, int, (a, b, k, c) => {
        expect(Rational.of(a * k, b * k).equals(Rational.of(a, b))).toBe(true);
        const x = Rational.of(a, b);
        const y = Rational.of(c, k);
        expect(x.cmp(y)).toBe(Math.sign(Number(a * k - c * b)));
        expect(x.add(y).sub(y).equals(x)).toBe(true);
      }),
    );
  });

  it('adds, subtracts and multiplies exactly as reducing the plain cross products would', () => {
    // Denominators from shared factors (powers of two, 2^256 − 1's, small primes) so the
    // operands share factors as EVs and counts do, plus arbitrary ones.
    const factor = fc.constantFrom(1n, 2n, 3n, 5n, 17n, 2n ** 64n, 2n ** 256n - 1n, 641n * 65537n);
    const den = fc.oneof(
      fc.tuple(factor, factor, fc.bigInt({ min: 1n, max: 1000n })).map(([a, b, c]) => a * b * c),
      fc.bigInt({ min: 1n, max: 2n ** 300n }),
    );
    const num = fc.oneof(fc.constant(0n), fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }));
    const rational = fc.tuple(num, den).map(([n, d]) => Rational.of(n, d));
    fc.assert(
      fc.property(rational, rational, (x, y) => {
        const naive = (n: bigint, d: bigint) => Rational.of(n, d).toString();
        expect(x.add(y).toString()).toBe(naive(x.num * y.den + y.num * x.den, x.den * y.den));
        expect(x.sub(y).toString()).toBe(naive(x.num * y.den - y.num * x.den, x.den * y.den));
        expect(x.mul(y).toString()).toBe(naive(x.num * y.num, x.den * y.den));
        expect(x.add(x).toString()).toBe(naive(2n * x.num, x.den));
      }),
      { numRuns: 500 },
    );
  });
});

describe('Rational.ceil', () => {
  it('rounds up to the least integer not below, for either sign', () => {
    const cases: [bigint, bigint, bigint][] = [
      [7n, 2n, 4n],
      [6n, 2n, 3n],
      [1n, 3n, 1n],
      [0n, 1n, 0n],
      [-1n, 3n, 0n],
      [-7n, 2n, -3n],
      [-6n, 2n, -3n],
      [2n ** 256n + 1n, 2n ** 256n, 2n],
    ];
    for (const [num, den, want] of cases) expect(Rational.of(num, den).ceil()).toBe(want);
  });
});

describe('gcd', () => {
  /** The textbook Euclid, as the reference. */
  const euclid = (a: bigint, b: bigint): bigint => {
    let x = a < 0n ? -a : a;
    let y = b < 0n ? -b : b;
    while (y !== 0n) [x, y] = [y, x % y];
    return x;
  };

  it('agrees with Euclid on powers of two, odd parts, signs and zero', () => {
    const values = [
      0n,
      1n,
      -1n,
      2n,
      3n,
      12n,
      -18n,
      1n << 256n,
      (1n << 256n) - 1n,
      3n << 200n,
      5n * 7n * (1n << 77n),
    ];
    let seed = 0x9e3779b97f4a7c15n;
    for (let i = 0; i < 200; i++) {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
      const big = (seed << 192n) ^ (seed * seed) ^ seed;
      values.push(big << BigInt(i % 40), -big);
    }
    for (const a of values) for (const b of values.slice(0, 40)) expect(gcd(a, b)).toBe(euclid(a, b));
  });

  it('knows the primes of 2^256 − 1, each once', () => {
    const powMod = (b: bigint, e: bigint, m: bigint): bigint => {
      let r = 1n;
      for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
      return r;
    };
    expect(MAX_UINT256_PRIMES.reduce((a, b) => a * b, 1n)).toBe((1n << 256n) - 1n);
    // Fermat's test to several bases: each is (almost surely) prime; and no two are equal.
    for (const p of MAX_UINT256_PRIMES)
      for (const base of [2n, 3n, 7n, 11n]) if (p > base) expect(powMod(base, p - 1n, p)).toBe(1n);
    expect(new Set(MAX_UINT256_PRIMES).size).toBe(MAX_UINT256_PRIMES.length);
  });

  it('agrees with Euclid when one operand divides 2^256 − 1 (EV denominators)', () => {
    const max = (1n << 256n) - 1n;
    const divisors = [
      max,
      max / 3n,
      max / (5n * 257n),
      max / 641n / 65_537n,
      max / 5_704_689_200_685_129_054_721n,
    ];
    let seed = 0x2545f4914f6cdd1dn;
    const others: bigint[] = [max, 3n * 17n * (1n << 70n), 6_700_417n * 274_177n * (1n << 90n) + 0n];
    for (let i = 0; i < 60; i++) {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
      const big = (seed << 192n) ^ (seed * seed) ^ seed;
      // Multiples of some of the primes, and arbitrary numbers.
      others.push(big, big * MAX_UINT256_PRIMES[i % 11] * MAX_UINT256_PRIMES[(i * 7) % 11], -(big << 3n));
    }
    for (const d of divisors)
      for (const o of others) {
        expect(gcd(o, d)).toBe(euclid(o, d));
        expect(gcd(d << 5n, o)).toBe(euclid(d << 5n, o));
      }
  });
});
