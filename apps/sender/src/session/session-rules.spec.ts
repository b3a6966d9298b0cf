import { describe, expect, it } from 'vitest';
import { Rational, type TicketParams } from '#app/ticket';
import { SenderError, SenderErrorCode } from '../sender.error.js';
import { parseSessionId, sessionId } from './session-id.js';
import { checkSessionPolicy } from './session-policy.js';
import { sessionTtlMs } from './session.store.js';

const PARAMS: TicketParams = {
  recipient: new Uint8Array(20).fill(1),
  faceValue: 1000n,
  winProb: 5n,
  recipientRandHash: new Uint8Array(32).fill(2),
  seed: 3n,
  expirationBlock: 100n,
};
const CONTACT = { alias: 'orch', addressHex: `0x${'01'.repeat(20)}`, maxPricePerPixel: Rational.of(10n) };

function codeOf(fn: () => void): SenderErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SenderError) return err.code;
    throw err;
  }
  return undefined;
}

describe('checkSessionPolicy', () => {
  const base = {
    params: PARAMS,
    recipientHex: CONTACT.addressHex,
    pricePerPixel: Rational.of(10n),
    contact: CONTACT,
    allowlist: true,
  };
  it('accepts a contact at its maximum price', () => {
    expect(codeOf(() => checkSessionPolicy(base))).toBeUndefined();
  });
  it('refuses unknown recipients only when the allowlist is on', () => {
    expect(codeOf(() => checkSessionPolicy({ ...base, contact: undefined }))).toBe(
      SenderErrorCode.RECIPIENT_NOT_ALLOWED,
    );
    expect(
      codeOf(() => checkSessionPolicy({ ...base, contact: undefined, allowlist: false })),
    ).toBeUndefined();
  });
  it('refuses winProb 0 and a price above the cap', () => {
    expect(codeOf(() => checkSessionPolicy({ ...base, params: { ...PARAMS, winProb: 0n } }))).toBe(
      SenderErrorCode.WIN_PROB_ZERO,
    );
    expect(codeOf(() => checkSessionPolicy({ ...base, pricePerPixel: Rational.of(21n, 2n) }))).toBe(
      SenderErrorCode.PRICE_TOO_HIGH,
    );
  });
});

describe('session ids', () => {
  it('round-trip and refuse anything else', () => {
    const key = { senderHex: `0x${'0a'.repeat(20)}`, recipientRandHashHex: `0x${'0b'.repeat(32)}` };
    expect(parseSessionId(sessionId(key))).toEqual(key);
    for (const bad of [
      undefined,
      '',
      `0x${'0b'.repeat(32)}`,
      sessionId(key).toUpperCase(),
      `${sessionId(key)}x`,
    ]) {
      expect(codeOf(() => parseSessionId(bad))).toBe(SenderErrorCode.INVALID_REQUEST);
    }
  });
});

describe('sessionTtlMs', () => {
  it('covers twice the remaining blocks plus a minute, within a week', () => {
    expect(sessionTtlMs(140n, 100n, 12)).toBe(2 * 40 * 12_000 + 60_000);
    expect(sessionTtlMs(100n, 100n, 12)).toBe(2 * 12_000 + 60_000);
    expect(sessionTtlMs(10n ** 12n, 0n, 12)).toBe(7 * 24 * 3_600_000);
  });
});
