import { describe, expect, it } from 'vitest';
import { addressParam, groupOf, pageParams, statusParam, ticketHashParam, windowParams } from './params.js';

describe('ops request parameters', () => {
  it('expands status groups and accepts raw statuses', () => {
    expect(statusParam('unclaimed')).toEqual(['received', 'queued']);
    expect(statusParam('in-progress,failed')).toEqual(['submitting', 'submitted', 'failed']);
    expect(statusParam('queued, REDEEMED')).toEqual(['queued', 'redeemed']);
    expect(statusParam(undefined)).toEqual([]);
    expect(() => statusParam('paid')).toThrow(/unknown status "paid"/);
    expect(groupOf('submitted' as never)).toBe('in-progress');
  });

  it('bounds paging and windows', () => {
    expect(pageParams(undefined, undefined)).toEqual({ limit: 50, offset: 0 });
    expect(pageParams('10', '20')).toEqual({ limit: 10, offset: 20 });
    expect(() => pageParams('0', undefined)).toThrow(/limit/);
    expect(() => pageParams('501', undefined)).toThrow(/limit/);
    expect(() => pageParams('1', '-1')).toThrow(/offset/);
    expect(windowParams(undefined, undefined)).toEqual({ windowSeconds: 3600, bucketSeconds: 60 });
    expect(() => windowParams('86400', '1')).toThrow(/1000 buckets/);
  });

  it('checks addresses and hashes', () => {
    expect(addressParam('0x70997970C51812dc3A010C7d01b50e0d17dc79C8', 'sender')).toBe(
      '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
    );
    expect(addressParam('0x70997970C51812DC3A010C7D01B50E0D17DC79C8', 'sender')).toBe(
      '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
    );
    // A mistyped checksummed address is refused, not looked up as another account.
    expect(() => addressParam('0x70997970C51812dc3A010C7d01b50e0d17dc79c8', 'sender')).toThrow(
      /sender: the address has an invalid EIP-55 checksum/,
    );
    expect(addressParam('', 'sender')).toBeUndefined();
    expect(() => addressParam('0x12', 'sender')).toThrow(/sender/);
    expect(() => ticketHashParam('0x12')).toThrow(/64 hex/);
  });
});
