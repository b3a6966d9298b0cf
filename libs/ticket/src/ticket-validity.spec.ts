import { describe, expect, it } from 'vitest';
import { ticketValidityExpired } from './ticket-validity.js';

describe('ticket validity', () => {
  it('keeps a ticket redeemable for ticketValidityPeriod rounds from its creation round (§4.4)', () => {
    // Created in round 10 with a period of 2: redeemable in rounds 10 and 11, not from 12 on.
    expect(ticketValidityExpired(10n, 2n, 10n)).toBe(false);
    expect(ticketValidityExpired(10n, 2n, 11n)).toBe(false);
    expect(ticketValidityExpired(10n, 2n, 12n)).toBe(true);
    expect(ticketValidityExpired(10n, 2n, 40n)).toBe(true);
  });
});
