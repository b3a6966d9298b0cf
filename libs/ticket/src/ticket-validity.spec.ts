import { describe, expect, it } from 'vitest';
import {
  inLastValidRound,
  lastValidCreationRound,
  lastValidRound,
  ticketValidityExpired,
} from './ticket-validity.js';

describe('ticket validity', () => {
  it('keeps a ticket redeemable for ticketValidityPeriod rounds from its creation round (§4.4)', () => {
    // Created in round 10 with a period of 2: redeemable in rounds 10 and 11, not from 12 on.
    expect(ticketValidityExpired(10n, 2n, 10n)).toBe(false);
    expect(ticketValidityExpired(10n, 2n, 11n)).toBe(false);
    expect(ticketValidityExpired(10n, 2n, 12n)).toBe(true);
    expect(ticketValidityExpired(10n, 2n, 40n)).toBe(true);
  });

  it('names the last round a ticket can be redeemed in', () => {
    expect(lastValidRound(10n, 2n)).toBe(11n);
    expect(lastValidRound(10n, 1n)).toBe(10n);
    expect([9n, 10n, 11n, 12n].map((r) => inLastValidRound(10n, 2n, r))).toEqual([false, false, true, false]);
    expect(inLastValidRound(10n, 1n, 10n)).toBe(true);
  });

  it('names the creation round whose tickets are in their last valid round', () => {
    for (const [period, round] of [
      [2n, 11n],
      [1n, 10n],
      [5n, 40n],
    ]) {
      const created = lastValidCreationRound(period, round)!;
      expect(inLastValidRound(created, period, round)).toBe(true);
      expect(inLastValidRound(created - 1n, period, round)).toBe(false);
      expect(inLastValidRound(created + 1n, period, round)).toBe(false);
    }
    expect(lastValidCreationRound(3n, 1n)).toBeUndefined();
  });
});
