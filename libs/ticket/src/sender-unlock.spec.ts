import { describe, expect, it } from 'vitest';
import { hexToBytes } from './bytes.js';
import { TicketError, TicketErrorCode } from './errors.js';
import {
  assertSenderNotUnlocking,
  isSenderLocked,
  isUnlockingSoon,
  senderUnlockingError,
} from './sender-unlock.js';

// An address whose EIP-55 form has both cases, so the message is seen to carry the checksum.
const SENDER = hexToBytes('0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', 'sender', 20);

describe('sender unlock', () => {
  it("is locked (the broker's isLocked, §4.2) without an unlock and until the withdraw round starts", () => {
    expect(isSenderLocked({ withdrawRound: 0n }, 10n)).toBe(true);
    expect(isSenderLocked({ withdrawRound: 11n }, 10n)).toBe(true);
    expect(isSenderLocked({ withdrawRound: 10n }, 10n)).toBe(false);
    expect(isSenderLocked({ withdrawRound: 3n }, 10n)).toBe(false);
  });

  it('refuses a sender whose unlock completes by the next round, never one without an unlock (§8.3)', () => {
    expect(isUnlockingSoon({ withdrawRound: 0n }, 10n)).toBe(false);
    expect(isUnlockingSoon({ withdrawRound: 12n }, 10n)).toBe(false);
    expect(isUnlockingSoon({ withdrawRound: 11n }, 10n)).toBe(true);
    expect(isUnlockingSoon({ withdrawRound: 3n }, 10n)).toBe(true);
  });

  it("words the refusal as go-livepeer's ValidateSender, with the checksummed sender", () => {
    const err = senderUnlockingError(SENDER);
    expect(err).toBeInstanceOf(TicketError);
    expect(err.code).toBe(TicketErrorCode.SENDER_UNLOCKING);
    expect(err.fatal).toBe(true);
    expect(err.message).toBe(
      'deposit and reserve for sender 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed is set to unlock soon',
    );
  });

  it('throws that refusal exactly when isUnlockingSoon holds', () => {
    expect(() => assertSenderNotUnlocking(SENDER, { withdrawRound: 0n }, 10n)).not.toThrow();
    expect(() => assertSenderNotUnlocking(SENDER, { withdrawRound: 12n }, 10n)).not.toThrow();
    expect(() => assertSenderNotUnlocking(SENDER, { withdrawRound: 11n }, 10n)).toThrow(
      senderUnlockingError(SENDER).message,
    );
  });
});
