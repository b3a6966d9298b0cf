import { describe, expect, it } from 'vitest';
import {
  ERROR_BACKOFF_MAX_MS,
  exponentialBackoffMs,
  redemptionBackoffMs,
  redemptionPriority,
} from './queues.js';

describe('redemptionPriority', () => {
  it("is the ticket's creation round, within BullMQ's 1 to 2^21 (0 would mean no priority)", () => {
    expect(redemptionPriority(3_901n)).toBe(3_901);
    expect(redemptionPriority(1n)).toBe(1);
    expect(redemptionPriority(0n)).toBe(1);
    expect(redemptionPriority(2n ** 21n)).toBe(2 ** 21);
    expect(redemptionPriority(2n ** 64n)).toBe(2 ** 21);
  });
});

describe('exponentialBackoffMs', () => {
  it('waits the base after the first failure, doubles after each further one, and stops at the cap', () => {
    expect([0, 1, 2, 3, 4].map((n) => exponentialBackoffMs(n, 2_000, 300_000))).toEqual([
      2_000, 2_000, 4_000, 8_000, 16_000,
    ]);
    expect(exponentialBackoffMs(9, 2_000, 300_000)).toBe(300_000);
    expect(exponentialBackoffMs(10_000, 2_000, 300_000)).toBe(300_000);
  });

  it('is the worker back-off with its own defaults', () => {
    expect(redemptionBackoffMs(3)).toBe(exponentialBackoffMs(3, 2_000, ERROR_BACKOFF_MAX_MS));
  });
});
