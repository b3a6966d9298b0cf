import { describe, expect, it } from 'vitest';
import { bearerToken } from '#app/common';
import { TokenMatcher, bearerOf } from './bearer-token.js';

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
    expect(bearerOf(`bearer ${TOKEN}`)).toBeUndefined();
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
});
