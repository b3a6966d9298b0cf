import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearerToken } from '#app/common';
import { TokenMatcher, bearerOf, tokenDigest } from './bearer-token.js';

const TOKEN = 'a-configured-token-0123';

describe('bearer tokens', () => {
  it('configures only tokens of 16 or more characters without white space', () => {
    expect(bearerToken(TOKEN)).toBe(TOKEN);
    expect(() => bearerToken('short-token')).toThrow('at least 16 characters');
    expect(() => bearerToken('sixteen chars or more')).toThrow('without spaces');
  });

  it('reads the token of an `Authorization: Bearer` header, and nothing else', () => {
    expect(bearerOf(`Bearer ${TOKEN}`)).toBe(TOKEN);
    expect(bearerOf([`Bearer ${TOKEN}`, 'Bearer other'])).toBe(TOKEN);
    expect(bearerOf(`bearer ${TOKEN}`)).toBe(TOKEN); // the scheme is case-insensitive (RFC 7235)
    expect(bearerOf(`BEARER  ${TOKEN} `)).toBe(TOKEN);
    expect(bearerOf(`Basic ${TOKEN}`)).toBeUndefined();
    expect(bearerOf(`Bearer ${TOKEN} extra`)).toBeUndefined();
    expect(bearerOf('Bearer ')).toBeUndefined();
    expect(bearerOf(undefined)).toBeUndefined();
  });

  it('matches the configured token only', () => {
    const matcher = new TokenMatcher(TOKEN);
    expect(matcher.matches(TOKEN)).toBe(true);
    expect(matcher.matches(`${TOKEN}x`)).toBe(false);
    expect(matcher.matches('')).toBe(false);
    expect(matcher.matches(undefined)).toBe(false);
  });

  it('digests a token as SHA-256 of its UTF-8 bytes (what a configured tokenSha256 holds)', () => {
    expect(tokenDigest('abc').toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    const unicode = 'jeton-à-clé-ünïcode-0123';
    expect(tokenDigest(unicode)).toEqual(createHash('sha256').update(Buffer.from(unicode, 'utf8')).digest());
  });
});
