import { MAX_UINT256 } from './constants.js';
import { invalidInput } from './errors.js';

/**
 * The prime factors of 2^256 − 1 (the product of the Fermat numbers F0…F7, each prime or of
 * known factorisation), each once: the number is squarefree. EV denominators divide it.
 */
export const MAX_UINT256_PRIMES: readonly bigint[] = [
  3n,
  5n,
  17n,
  257n,
  641n,
  65_537n,
  274_177n,
  6_700_417n,
  67_280_421_310_721n,
  59_649_589_127_497_217n,
  5_704_689_200_685_129_054_721n,
];
/** Below this, Euclid ends in a few steps anyway. */
const LONG_EUCLID = 1n << 64n;
/** The last divisor of 2^256 − 1 met, with its primes: a recipient meets the same EV denominator payment after payment. */
let lastDivisor: { value: bigint; primes: readonly bigint[] } = { value: 1n, primes: [] };

/** The primes of `n` if it divides 2^256 − 1, else undefined. */
function divisorPrimes(n: bigint): readonly bigint[] | undefined {
  if (n === lastDivisor.value) return lastDivisor.primes;
  if (MAX_UINT256 % n !== 0n) return undefined;
  lastDivisor = { value: n, primes: MAX_UINT256_PRIMES.filter((p) => n % p === 0n) };
  return lastDivisor.primes;
}

/**
 * gcd(a, b) = 2^min(i, j) · gcd(a', b') for a = 2^i·a', b = 2^j·b' with a', b' odd. The odd
 * part of an EV denominator is a divisor of 2^256 − 1, large, where Euclid takes ~150 steps of
 * 256-bit division (a balance credit is a sum with that denominator, so a gcd per payment). A
 * divisor of 2^256 − 1 is squarefree with known primes, so its gcd with anything is the product
 * of those of its primes that divide the other number: a few small divisions. Exported for tests.
 */
export function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  if (x === 0n) return y;
  if (y === 0n) return x;
  // x & -x is x's lowest set bit: the largest power of two dividing x.
  const lowX = x & -x;
  const lowY = y & -y;
  x /= lowX;
  y /= lowY;
  const twos = lowX < lowY ? lowX : lowY;
  if (x >= LONG_EUCLID && y >= LONG_EUCLID) {
    let other = x;
    let primes = divisorPrimes(y);
    if (!primes) {
      other = y;
      primes = divisorPrimes(x);
    }
    if (primes) {
      let g = 1n;
      for (const p of primes) if (other % p === 0n) g *= p;
      return g * twos;
    }
  }
  while (y !== 0n) {
    const r = x % y;
    x = y;
    y = r;
  }
  return x * twos;
}

/**
 * Exact rational number with bigint parts, normalised the way Go's `big.Rat` is: denominator
 * positive, numerator and denominator coprime, zero as 0/1. Normalisation matters beyond
 * equality: the reduced numerator and denominator of the price feed O's HMAC (§5.1).
 */
export class Rational {
  static readonly ZERO = new Rational(0n, 1n);

  private constructor(
    readonly num: bigint,
    readonly den: bigint,
  ) {}

  /** num/den reduced to lowest terms; throws on a zero denominator. */
  static of(num: bigint, den = 1n): Rational {
    if (typeof num !== 'bigint' || typeof den !== 'bigint')
      throw invalidInput('rational parts must be bigints');
    if (den === 0n) throw invalidInput('rational denominator is zero');
    if (num === 0n) return Rational.ZERO;
    const sign = den < 0n ? -1n : 1n;
    const g = gcd(num, den);
    return new Rational((sign * num) / g, (sign * den) / g);
  }

  add(other: Rational): Rational {
    return this.sum(other.num, other.den);
  }

  sub(other: Rational): Rational {
    return this.sum(-other.num, other.den);
  }

  /**
   * Both operands are in lowest terms, so a·c / b·d only needs gcd(a, d) and gcd(c, b) taken
   * out (Knuth 4.5.1). That keeps Euclid off the full 512-bit product: EVs have denominators
   * near 2^256 whose odd part is large, and the product's gcd was a hot spot per payment.
   */
  mul(other: Rational): Rational {
    if (this.num === 0n || other.num === 0n) return Rational.ZERO;
    const g1 = gcd(this.num, other.den);
    const g2 = gcd(other.num, this.den);
    return new Rational((this.num / g1) * (other.num / g2), (this.den / g2) * (other.den / g1));
  }

  /** Throws when `other` is zero. */
  div(other: Rational): Rational {
    return Rational.of(this.num * other.den, this.den * other.num);
  }

  /** −1, 0 or 1 as this is less than, equal to or greater than `other`. */
  cmp(other: Rational): number {
    const left = this.num * other.den;
    const right = other.num * this.den;
    return left < right ? -1 : left > right ? 1 : 0;
  }

  equals(other: Rational): boolean {
    return this.num === other.num && this.den === other.den;
  }

  sign(): number {
    return this.num < 0n ? -1 : this.num > 0n ? 1 : 0;
  }

  /** The least integer ≥ this: whole wei when a fraction of one must still be paid for. */
  ceil(): bigint {
    const q = this.num / this.den;
    // bigint division truncates toward zero: a positive remainder rounds up.
    return this.num % this.den > 0n ? q + 1n : q;
  }

  /**
   * this + num/den (in lowest terms, den > 0) by Knuth 4.5.1: with g = gcd(b, d) the sum's
   * reduction needs only gcd(t, g), where t = a·(d/g) + c·(b/g). Equal denominators (credits
   * summed per job) then take a single gcd with the denominator instead of one with its square.
   */
  private sum(num: bigint, den: bigint): Rational {
    const g = this.den === den ? den : gcd(this.den, den);
    const t = g === 1n ? this.num * den + num * this.den : this.num * (den / g) + num * (this.den / g);
    if (t === 0n) return Rational.ZERO;
    if (g === 1n) return new Rational(t, this.den * den);
    const g2 = gcd(t, g);
    return new Rational(t / g2, (this.den / g) * (den / g2));
  }

  /** Go `big.Rat.String()`: always `num/den`. */
  toString(): string {
    return `${this.num}/${this.den}`;
  }

  /**
   * Go `big.Rat.FloatString(prec)`: `prec` fractional digits, the last rounded to nearest with
   * halves away from zero. go-livepeer prints EVs in error messages this way.
   */
  toDecimalString(prec: number): string {
    const magnitude = this.num < 0n ? -this.num : this.num;
    let whole = magnitude / this.den;
    const scale = 10n ** BigInt(prec);
    let frac = ((magnitude % this.den) * scale) / this.den;
    const rest = ((magnitude % this.den) * scale) % this.den;
    if (2n * rest >= this.den) {
      frac += 1n;
      if (frac >= scale) {
        whole += 1n;
        frac -= scale;
      }
    }
    const sign = this.num < 0n ? '-' : '';
    return prec > 0 ? `${sign}${whole}.${frac.toString().padStart(prec, '0')}` : `${sign}${whole}`;
  }

  /** JSON form used by the conformance vectors: decimal strings in lowest terms. */
  toJSON(): { num: string; den: string } {
    return { num: this.num.toString(), den: this.den.toString() };
  }
}
