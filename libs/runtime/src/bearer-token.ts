import { createHash, timingSafeEqual } from 'node:crypto';

// The services' HTTP operator endpoints (ops API, Redeemer /ops) take one configured bearer token
// (parsed by #app/common's bearerToken): how a request presents it, and its constant-time check.

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares presented tokens to the configured one in constant time (hashes have equal length). */
export class TokenMatcher {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  matches(presented: string | undefined): boolean {
    return presented !== undefined && presented !== '' && timingSafeEqual(digest(presented), this.expected);
  }
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerOf(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return /^Bearer (\S+)$/.exec(value ?? '')?.[1];
}
