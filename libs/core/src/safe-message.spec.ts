import { describe, expect, it } from 'vitest';
import { safeErrorMessage, withoutUrls } from './safe-message.js';

describe('safe error messages', () => {
  it('replaces every URL, credentials and keys included', () => {
    const err = new Error(
      'server response 429 (request={ }, info={ "requestUrl": "https://arb.example/v2/SECRETKEY", "x": 1 }) ' +
        'then postgres://user:pw@db:5432/x failed',
    );
    const safe = safeErrorMessage(err);
    expect(safe).not.toMatch(/SECRETKEY|pw@/);
    expect(safe).toBe(
      'server response 429 (request={ }, info={ "requestUrl": "[url] "x": 1 }) then [url] failed',
    );
    expect(safeErrorMessage('plain')).toBe('plain');
    expect(withoutUrls('at redis://:pw@h:6379/0.')).toBe('at [url]');
  });
});
