import { describe, expect, it } from 'vitest';
import type { JsonRpcApiProvider } from 'ethers';
import { l1BlockAt, l1BlockOf, parseHeader } from './block-header.js';
import { redact } from '../redact-rpc-url.js';

const raw = { number: '0x10', hash: '0xAB', parentHash: '0xCD', l1BlockNumber: '0x5' };

describe('parseHeader', () => {
  it("takes the L1 block from the block itself or from Arbitrum's l1BlockNumber", () => {
    expect(parseHeader({ ...raw, l1BlockNumber: undefined }, 'block')).toEqual({
      number: 16n,
      hash: '0xab',
      parentHash: '0xcd',
      l1Block: 16n,
      kind: 'l1',
    });
    expect(parseHeader(raw, 'arbitrum')).toMatchObject({ l1Block: 5n, kind: 'arbitrum' });
    expect(parseHeader(raw, 'auto')).toMatchObject({ l1Block: 5n, kind: 'arbitrum' });
  });

  it('refuses a header without the fields it needs', () => {
    expect(() => parseHeader({ ...raw, l1BlockNumber: undefined }, 'arbitrum')).toThrow(/l1BlockNumber/);
    expect(() => parseHeader({ hash: '0x' }, 'block')).toThrow();
    expect(() => parseHeader(null, 'block')).toThrow();
  });
});

describe('l1BlockOf', () => {
  const l2 = { number: '0x10' };

  it("takes Arbitrum's l1BlockNumber when the block carries one, else the block number (auto)", () => {
    expect(l1BlockOf(raw, 'auto')).toBe(5n);
    expect(l1BlockOf(l2, 'auto')).toBe(16n);
  });

  it('never falls back: a forced source refuses the block it rules out', () => {
    expect(l1BlockOf(raw, 'arbitrum')).toBe(5n);
    expect(() => l1BlockOf(l2, 'arbitrum')).toThrow(/no l1BlockNumber/);
    expect(l1BlockOf(l2, 'block')).toBe(16n);
    // On Arbitrum the block's own number is an L2 one: params would expire against it.
    expect(() => l1BlockOf(raw, 'block')).toThrow(/L2 blocks/);
  });
});

describe('l1BlockAt', () => {
  /** A provider every read of which fails: what resolves did not read. */
  const unread = { send: () => Promise.reject(new Error('read a header')) } as unknown as JsonRpcApiProvider;

  it('reads no header where the source or the chain kind the head showed settles it', async () => {
    await expect(l1BlockAt(unread, 7n, 'block')).resolves.toBe(7n);
    await expect(l1BlockAt(unread, 7n, 'auto', 'l1')).resolves.toBe(7n);
    await expect(l1BlockAt(unread, 7n, 'auto')).rejects.toThrow('read a header');
    await expect(l1BlockAt(unread, 7n, 'auto', 'arbitrum')).rejects.toThrow('read a header');
  });
});

describe('redact', () => {
  it('removes the RPC URL and its key-bearing parts from messages', () => {
    const url = 'https://arb.example.com/v2/SECRETKEY?token=abc';
    const msg = `request to ${url} failed; path /v2/SECRETKEY?token=abc`;
    const out = redact(msg, url);
    expect(out).not.toContain('SECRETKEY');
    expect(out).not.toContain('token=abc');
  });
});
