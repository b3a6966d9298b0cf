import { describe, expect, it } from 'vitest';
import { redemptionPriority } from './queues.js';

describe('redemptionPriority', () => {
  it("is the ticket's creation round, within BullMQ's 1 to 2^21 (0 would mean no priority)", () => {
    expect(redemptionPriority(3_901n)).toBe(3_901);
    expect(redemptionPriority(1n)).toBe(1);
    expect(redemptionPriority(0n)).toBe(1);
    expect(redemptionPriority(2n ** 21n)).toBe(2 ** 21);
    expect(redemptionPriority(2n ** 64n)).toBe(2 ** 21);
  });
});
