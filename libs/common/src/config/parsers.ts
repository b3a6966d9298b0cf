/** Parsers for environment values. Each throws an Error whose message says what was expected. */

import { addressTextProblem } from '#app/ticket';

export const str = (raw: string): string => raw;

export function int(min: number, max: number): (raw: string) => number {
  return (raw) => {
    if (!/^-?\d+$/.test(raw)) throw new Error('expected an integer');
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new Error(`expected an integer in [${min}, ${max}]`);
    return n;
  };
}

export const port = int(0, 65_535);

/** Non-negative integer amount (wei, gas, blocks) as bigint: money never passes through a JS number. */
export function uint(raw: string): bigint {
  if (!/^\d+$/.test(raw)) throw new Error('expected a non-negative integer');
  return BigInt(raw);
}

export function bool(raw: string): boolean {
  const v = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new Error('expected true or false');
}

/**
 * A URL of one of `protocols`. `credentials: 'refused'` for a URL that is neither a secret nor
 * sent with its user:password@ (fetch refuses such a URL; a token has a setting of its own).
 */
export function url(
  protocols: readonly string[],
  options: { credentials?: 'allowed' | 'refused' } = {},
): (raw: string) => string {
  return (raw) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new Error('expected a URL');
    }
    if (!protocols.includes(u.protocol.replace(/:$/, ''))) {
      throw new Error(`expected a ${protocols.join(' or ')} URL`);
    }
    if (options.credentials === 'refused' && (u.username !== '' || u.password !== '')) {
      throw new Error('expected a URL without user:password@ (a token has its own setting)');
    }
    return raw;
  };
}

/** The zero address as `address` returns it: the services refuse it wherever a recipient is configured. */
export const ZERO_ADDRESS = `0x${'0'.repeat(40)}`;

/** A 20-byte hex address, returned lowercase; mixed case must carry a valid EIP-55 checksum. */
export function address(raw: string): string {
  const problem = addressTextProblem(raw);
  if (problem === 'malformed') throw new Error('expected a 0x-prefixed 20-byte hex address');
  if (problem === 'checksum') throw new Error(CHECKSUM_HINT);
  return raw.toLowerCase();
}

/** The refusal of a mistyped checksummed address, wherever an address is read from text. */
export const CHECKSUM_HINT =
  'the address has an invalid EIP-55 checksum (check it, or write it all lowercase)';

/** A configured bearer token (ops API, Redeemer /ops): long enough not to be guessed, no white space. */
export function bearerToken(raw: string): string {
  if (raw.length < 16 || /\s/.test(raw)) throw new Error('expected at least 16 characters without spaces');
  return raw;
}

/** `host:port` listen address for gRPC servers. */
export function hostPort(raw: string): string {
  const m = /^(\[[0-9a-fA-F:]+\]|[\w.-]+):(\d{1,5})$/.exec(raw);
  if (!m || Number(m[2]) > 65_535) throw new Error('expected host:port');
  return raw;
}

export function oneOf<T extends string>(values: readonly T[]): (raw: string) => T {
  return (raw) => {
    if (!(values as readonly string[]).includes(raw)) throw new Error(`expected one of ${values.join(', ')}`);
    return raw as T;
  };
}
