import { describe, expect, it } from 'vitest';
import type { PendingFaceValue } from '#app/database';
import { PendingRedemptions } from './pending-redemptions.js';

type Row = { sender: string; recipient: string; pending: bigint };

/** A PendingFaceValue whose reads the test answers, in any order. */
class ControlledReads {
  readonly waiting: ((rows: Row[]) => void)[] = [];

  bySenderAndRecipient(): Promise<Row[]> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

const S = '0x' + '1'.repeat(40);
const R = '0x' + '2'.repeat(40);

describe('PendingRedemptions', () => {
  it('keeps the newer of two overlapping reads, whichever answers last', async () => {
    const reads = new ControlledReads();
    const pending = new PendingRedemptions(reads as unknown as PendingFaceValue);
    // The poll's read begins before a winner is stored; the notified read after it.
    const poll = pending.refresh([S]);
    const notified = pending.refresh([S]);
    const [older, newer] = reads.waiting;
    newer([{ sender: S, recipient: R, pending: 5n }]);
    expect(await notified).toEqual([S]);
    older([]);
    expect(await poll).toEqual([]);
    expect(pending.peek(S)?.total).toBe(5n);
  });

  it('applies reads that answer in order, and starts over for a sender deleted meanwhile', async () => {
    const reads = new ControlledReads();
    const pending = new PendingRedemptions(reads as unknown as PendingFaceValue);
    const first = pending.refresh([S]);
    reads.waiting[0]([{ sender: S, recipient: R, pending: 5n }]);
    expect(await first).toEqual([S]);
    const second = pending.refresh([S]);
    reads.waiting[1]([]);
    expect(await second).toEqual([S]);
    expect(pending.peek(S)?.total).toBe(0n);

    pending.delete(S);
    const third = pending.refresh([S]);
    reads.waiting[2]([{ sender: S, recipient: R, pending: 7n }]);
    expect(await third).toEqual([S]);
    expect(pending.peek(S)?.byRecipient.get(R)).toBe(7n);
  });
});
