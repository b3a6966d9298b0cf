import { hash, timingSafeEqual } from 'node:crypto';

// Bearer tokens of the services' HTTP operator endpoints (ops API, Redeemer /ops; parsed by
// #app/common's bearerToken) and of the Sender API: how a request presents one, its digest and
// its constant-time check.

/**
 * SHA-256 of a token (UTF-8): what a matcher keeps and compares instead of the token. Digests have
 * equal lengths, so they compare in constant time whatever was presented. One-shot, as it runs on
 * every call: a Hash object per digest doubled its CPU.
 */
export function tokenDigest(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}

/** Compares presented tokens to the configured one in constant time (hashes have equal length). */
export class TokenMatcher {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = tokenDigest(token);
  }

  matches(presented: string | undefined): boolean {
    return (
      presented !== undefined && presented !== '' && timingSafeEqual(tokenDigest(presented), this.expected)
    );
  }
}

/** The scheme name is case-insensitive (RFC 7235 §2.1), so `bearer <token>` is as good. */
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The token of an `Authorization: Bearer <token>` value (an HTTP header, or gRPC metadata): the one
 * parser of every service's operator and API tokens.
 */
export function bearerOf(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return typeof value === 'string' ? BEARER.exec(value)?.[1] : undefined;
}
