import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { SECP256K1_N } from '#app/ticket';
import {
  blockFreshness,
  bodyHash,
  canonicalRequest,
  recoverRequestSigner,
  signRequest,
  SIGNATURE_HEADER,
  type SignableRequest,
} from './request-signature.js';

const wallet = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const req: SignableRequest = {
  method: 'post',
  path: '/api/v1/tickets/0xab/redeem',
  body: { a: 1 },
  block: 42n,
};

describe('request signatures', () => {
  it('recovers the signer of a signed request', async () => {
    const headers = await signRequest(wallet, req);
    expect(recoverRequestSigner(req, headers[SIGNATURE_HEADER])).toBe(wallet.address.toLowerCase());
  });

  it('binds method, path, body and block', async () => {
    const sig = (await signRequest(wallet, req))[SIGNATURE_HEADER];
    const me = wallet.address.toLowerCase();
    expect(recoverRequestSigner({ ...req, method: 'GET' }, sig)).not.toBe(me);
    expect(recoverRequestSigner({ ...req, path: '/api/v1/tickets/0xcd/redeem' }, sig)).not.toBe(me);
    expect(recoverRequestSigner({ ...req, body: { a: 2 } }, sig)).not.toBe(me);
    expect(recoverRequestSigner({ ...req, block: 43n }, sig)).not.toBe(me);
  });

  it('treats a missing body as {}', () => {
    expect(bodyHash(undefined)).toBe(bodyHash({}));
    expect(bodyHash('')).toBe(bodyHash(null));
    expect(canonicalRequest(req).split('\n')).toEqual([
      'ticketpay-ops-v1',
      'POST',
      '/api/v1/tickets/0xab/redeem',
      bodyHash({ a: 1 }),
      '42',
    ]);
  });

  it('rejects malformed signatures, and those the ticket library refuses (v 0/1, high s)', async () => {
    expect(() => recoverRequestSigner(req, '0x1234')).toThrow(/65-byte/);
    const sig = (await signRequest(wallet, req))[SIGNATURE_HEADER];
    const v = parseInt(sig.slice(130), 16);
    const withV = (n: number) => sig.slice(0, 130) + n.toString(16).padStart(2, '0');
    expect(() => recoverRequestSigner(req, withV(v - 27))).toThrow(/malformed/);
    // The malleable twin: s' = n − s with the other v recovers the same key, and is refused.
    const s = BigInt(`0x${sig.slice(66, 130)}`);
    const twin =
      sig.slice(0, 66) + (SECP256K1_N - s).toString(16).padStart(64, '0') + withV(55 - v).slice(130);
    expect(() => recoverRequestSigner(req, twin)).toThrow(/malformed/);
  });

  it('classifies block numbers against the head', () => {
    expect(blockFreshness(100n, 100n, 5)).toBe('fresh');
    expect(blockFreshness(95n, 100n, 5)).toBe('fresh');
    expect(blockFreshness(94n, 100n, 5)).toBe('stale');
    expect(blockFreshness(101n, 100n, 5)).toBe('ahead');
  });
});
