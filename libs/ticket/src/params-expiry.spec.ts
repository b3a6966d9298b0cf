import { describe, expect, it } from 'vitest';
import {
  blocksUntilParamsExpire,
  paramsExpirationBlock,
  paramsExpired,
  paramsExpiredForSender,
  revealBlock,
  revealMarginBlocks,
  storedRevealBlock,
} from './params-expiry.js';

describe('params expiry', () => {
  it('expires at the expiration block itself (PROTOCOL §5.4 step 6)', () => {
    expect(paramsExpired(100n, 99n)).toBe(false);
    expect(paramsExpired(100n, 100n)).toBe(true);
    expect(paramsExpired(100n, 101n)).toBe(true);
  });

  it('counts the blocks left down to 0, never below', () => {
    expect(blocksUntilParamsExpire(100n, 95n)).toBe(5n);
    expect(blocksUntilParamsExpire(100n, 100n)).toBe(0n);
    expect(blocksUntilParamsExpire(100n, 140n)).toBe(0n);
    for (const l1 of [90n, 99n, 100n, 120n]) {
      expect(blocksUntilParamsExpire(100n, l1) === 0n).toBe(paramsExpired(100n, l1));
    }
  });

  it('the Sender stops one block before the Recipient refuses (§7.3)', () => {
    expect(paramsExpiredForSender(100n, 98n)).toBe(false);
    expect(paramsExpiredForSender(100n, 99n)).toBe(true);
    expect(paramsExpired(100n, 99n)).toBe(false);
  });

  it('issues params that expire after their lifetime and reveals their rand the margin later', () => {
    const expiration = paramsExpirationBlock(1_000n, 40n);
    expect(expiration).toBe(1_040n);
    expect(paramsExpired(expiration, 1_039n)).toBe(false);
    expect(revealBlock(expiration, 0)).toBe(expiration);
    expect(revealBlock(expiration, 1)).toBe(1_041n);
    expect(blocksUntilParamsExpire(revealBlock(expiration, 1), 1_040n)).toBe(1n);
  });

  it("reveals past the blocks a Recipient's stalled head may hide, plus one for the poll", () => {
    // 120 s of 12 s blocks: the chain may be 10 blocks past what such a head shows.
    expect(revealMarginBlocks(120, 12)).toBe(11);
    expect(revealMarginBlocks(121, 12)).toBe(12);
    expect(revealMarginBlocks(10, 1)).toBe(11);
    // No bound on the head's staleness (or no block time): only the poll margin.
    expect(revealMarginBlocks(0, 12)).toBe(1);
    expect(revealMarginBlocks(120, 0)).toBe(1);
  });

  it("obeys the reveal block stored with a ticket, else the caller's margin past expiry", () => {
    expect(storedRevealBlock({ paramsExpirationBlock: 1_040n, revealBlock: 1_051n }, 1)).toBe(1_051n);
    expect(storedRevealBlock({ paramsExpirationBlock: 1_040n, revealBlock: null }, 1)).toBe(1_041n);
    expect(storedRevealBlock({ paramsExpirationBlock: 1_040n }, 3)).toBe(1_043n);
  });
});
