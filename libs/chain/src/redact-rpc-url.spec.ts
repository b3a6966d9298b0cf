import { describe, expect, it } from 'vitest';
import { redact } from './redact-rpc-url.js';

describe('redact (RPC URL secrets)', () => {
  it('replaces the whole URL, as given and as URL normalises it', () => {
    expect(redact('GET https://rpc.example/v2/KEY failed', 'https://rpc.example/v2/KEY')).toBe(
      'GET [rpc] failed',
    );
    expect(redact('GET https://rpc.example/ failed', 'https://RPC.example')).toBe('GET [rpc] failed');
  });

  it('replaces the path, the query and the password wherever they appear alone', () => {
    const url = 'https://u:s3cretpw@rpc.example/v2/abcKEY?key=q123';
    const out = redact('path /v2/abcKEY query ?key=q123 password s3cretpw', url);
    expect(out).toBe('path /[redacted] query ?[redacted] password [redacted]');
  });

  it('replaces a user name that carries an API key, alone or before @', () => {
    const url = 'https://0123456789abcdef@rpc.example';
    expect(redact('user 0123456789abcdef rejected', url)).toBe('user [redacted] rejected');
    expect(redact('at 0123456789abcdef@rpc.example', url)).toBe('at [redacted]@rpc.example');
  });

  it('replaces a short user name only where it stands as credentials, so messages stay readable', () => {
    const url = 'http://ops:pw-123456@rpc.example';
    expect(redact('HTTP 401 for ops:pw-123456@rpc.example; ops account', url)).toBe(
      'HTTP 401 for [redacted]:[redacted]@rpc.example; ops account',
    );
  });

  it('replaces percent-encoded parts in both spellings', () => {
    const url = 'https://key%2Fwith%2Bchars@rpc.example/p%20ath';
    const out = redact('key/with+chars and key%2Fwith%2Bchars, /p ath and /p%20ath', url);
    expect(out).not.toContain('key/with+chars');
    expect(out).not.toContain('key%2Fwith%2Bchars');
    expect(out).not.toContain('p ath');
    expect(out).not.toContain('p%20ath');
  });

  it('leaves a message without URL parts alone, and copes with a value that is not a URL', () => {
    expect(redact('eth_chainId: HTTP 503 Service Unavailable', 'http://127.0.0.1:8545')).toBe(
      'eth_chainId: HTTP 503 Service Unavailable',
    );
    expect(redact('bad not-a-url here', 'not-a-url')).toBe('bad [rpc] here');
  });
});
