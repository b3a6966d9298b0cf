import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { readErrorTrailers, setErrorTrailers } from './grpc-error-trailers.js';

describe('gRPC error trailers', () => {
  it('carries code and domain under the wire names clients read', () => {
    const metadata = setErrorTrailers('NONCE_ALREADY_SEEN', 'ticket');
    expect(metadata.get('error-code')).toEqual(['NONCE_ALREADY_SEEN']);
    expect(metadata.get('error-domain')).toEqual(['ticket']);
    expect(readErrorTrailers(metadata)).toEqual({ code: 'NONCE_ALREADY_SEEN', domain: 'ticket' });
  });

  it('adds to given metadata, keeping what it held', () => {
    const given = new Metadata();
    given.set('x-other', 'kept');
    expect(setErrorTrailers('MESSAGE_TOO_LARGE', 'proto', given)).toBe(given);
    expect(given.get('x-other')).toEqual(['kept']);
    expect(given.get('error-code')).toEqual(['MESSAGE_TOO_LARGE']);
  });

  it('reads nothing from an uncoded failure', () => {
    expect(readErrorTrailers(undefined)).toEqual({ code: undefined, domain: undefined });
    expect(readErrorTrailers(null)).toEqual({ code: undefined, domain: undefined });
    expect(readErrorTrailers(new Metadata())).toEqual({ code: undefined, domain: undefined });
  });
});
