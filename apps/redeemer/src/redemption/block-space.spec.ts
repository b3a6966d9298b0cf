import type { TransactionReceipt } from 'ethers';
import { describe, expect, it } from 'vitest';
import type { ChainTxRecord } from '#app/chain';
import { BlockSpace } from './block-space.js';

const BLOCK = 30_000_000n;
const tx = (gasLimit: bigint, purpose = 'batch-redeem') => ({ gasLimit, purpose }) as ChainTxRecord;
const receipt = (gasUsed: bigint, status = 1) => ({ gasUsed, status }) as TransactionReceipt;
const unmined = (...limits: bigint[]) => limits.map((gasLimit) => ({ gasLimit }));

describe('BlockSpace', () => {
  it('lets a group go while less than a block is expected to wait, counting whole limits until a tx was mined', () => {
    const space = new BlockSpace();
    expect(space.hasRoom(BLOCK, [])).toBe(true);
    expect(space.hasRoom(BLOCK, unmined(20_000_000n, 9_999_999n))).toBe(true);
    expect(space.hasRoom(BLOCK, unmined(20_000_000n, 10_000_000n))).toBe(false);
  });

  it('learns what share of their limits mined redemption txs use, and lets that much more wait', () => {
    const space = new BlockSpace();
    space.finished(tx(4_000_000n), receipt(1_000_000n));
    space.finished(tx(2_000_000n, 'redeem'), receipt(500_000n));
    // Other purposes, txs without a receipt (dropped) and reverted ones teach nothing.
    space.finished(tx(21_000n, 'withdraw-fees'), receipt(21_000n));
    space.finished(tx(4_000_000n), null);
    space.finished(tx(4_000_000n), receipt(30_000n, 0));
    expect(space.expectedUse(4_000_000n)).toBe(1_000_000n);
    // A block takes 30M less what the last tx's limit asks beyond its use (4M − 1M): 27M.
    // 26 × 4M of limits ≈ 26M expected: room; 27 × 4M ≈ 27M: none.
    const txs = (n: number) => unmined(...Array.from({ length: n }, () => 4_000_000n));
    expect(space.hasRoom(BLOCK, txs(26))).toBe(true);
    expect(space.hasRoom(BLOCK, txs(27))).toBe(false);
    // A larger limit among them asks for more of that room (6M, using 1.5M): 25.5M.
    expect(space.hasRoom(BLOCK, [...txs(23), ...unmined(6_000_000n)])).toBe(true);
    expect(space.hasRoom(BLOCK, [...txs(24), ...unmined(6_000_000n)])).toBe(false);
  });

  it("admits a group's txs while what waits before each is under what a block takes: one past it at most, the first always", () => {
    const space = new BlockSpace();
    const group = [4_000_000n, 4_000_000n, 4_000_000n, 4_000_000n];
    // Nothing learned, limits count whole: 20M + 4M + 4M waiting before the third: under 30M.
    expect(space.admits(BLOCK, unmined(20_000_000n), group)).toBe(3);
    // 28M + 4M waiting before the second: over; the first goes all the same (room was waited for).
    expect(space.admits(BLOCK, unmined(28_000_000n), group)).toBe(1);
    expect(space.admits(BLOCK, [], group)).toBe(4);
    expect(space.admits(BLOCK, [], [])).toBe(0);
    // Learned: a quarter. 25 × 4M unmined ≈ 25M, + 4M ≈ 26M before the second: under 27M; a 6M
    // limit in the group (using 1.5M) leaves a block 25.5M of room: over.
    space.finished(tx(4_000_000n), receipt(1_000_000n));
    expect(
      space.admits(BLOCK, unmined(...Array.from({ length: 25 }, () => 4_000_000n)), [4_000_000n, 4_000_000n]),
    ).toBe(2);
    expect(
      space.admits(BLOCK, unmined(...Array.from({ length: 25 }, () => 4_000_000n)), [6_000_000n, 4_000_000n]),
    ).toBe(1);
  });

  it('counts a reservation as waiting until it is released, once', () => {
    const space = new BlockSpace();
    const release = space.reserve(BLOCK);
    expect(space.hasRoom(BLOCK, [])).toBe(false);
    release();
    release();
    expect(space.hasRoom(BLOCK, [])).toBe(true);
    expect(space.hasRoom(BLOCK, unmined(BLOCK - 1n))).toBe(true);
  });

  it('waits until the chain took what was waiting, or gives up when stopped', async () => {
    const space = new BlockSpace();
    let waiting = unmined(BLOCK);
    setTimeout(() => (waiting = []), 250);
    const view = (list: () => ReturnType<typeof unmined>) => ({
      unmined: list,
      refreshMined: () => Promise.resolve(),
    });
    expect(
      await space.waitForRoom(
        BLOCK,
        view(() => waiting),
        () => false,
      ),
    ).toBe(true);
    expect(
      await space.waitForRoom(
        BLOCK,
        view(() => waiting),
        () => false,
      ),
    ).toBe(false);
    let stopped = false;
    setTimeout(() => (stopped = true), 150);
    const full = unmined(BLOCK);
    expect(
      await space.waitForRoom(
        BLOCK,
        view(() => full),
        () => stopped,
      ),
    ).toBe(true);
  });

  it('reads the mined count again at each look instead of waiting for the poll, and survives a failed read', async () => {
    const space = new BlockSpace();
    // The chain mined the waiting tx; the view shows it only once it is read again.
    let minedOnChain = false;
    let minedSeen = false;
    let reads = 0;
    const txs = {
      unmined: () => (minedSeen ? [] : unmined(BLOCK)),
      refreshMined: () => {
        reads++;
        if (reads === 1) return Promise.reject(new Error('rpc down'));
        minedSeen = minedOnChain;
        return Promise.resolve();
      },
    };
    setTimeout(() => (minedOnChain = true), 50);
    expect(await space.waitForRoom(BLOCK, txs, () => false)).toBe(true);
    expect(reads).toBeGreaterThanOrEqual(2);
  });
});
