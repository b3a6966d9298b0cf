import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RecipientErrorCode } from '../recipient.error.js';
import { SecretCipher } from './secret-cipher.js';

describe('SecretCipher', () => {
  const key = randomBytes(32);
  const secret = randomBytes(32);
  const recipient = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';

  it('round-trips a secret and never stores it in clear', () => {
    const cipher = new SecretCipher(key);
    const sealed = cipher.seal(secret, recipient);
    expect(Buffer.from(sealed.ciphertext).equals(secret)).toBe(false);
    expect(Buffer.from(cipher.open(sealed, recipient)).equals(secret)).toBe(true);
  });

  it('refuses another key, another recipient or a tampered ciphertext', () => {
    const sealed = new SecretCipher(key).seal(secret, recipient);
    const fail = (fn: () => unknown) => {
      try {
        fn();
        return undefined;
      } catch (err) {
        return (err as { code?: string }).code;
      }
    };
    expect(fail(() => new SecretCipher(randomBytes(32)).open(sealed, recipient))).toBe(
      RecipientErrorCode.SECRET_UNREADABLE,
    );
    expect(fail(() => new SecretCipher(key).open(sealed, '0x' + '11'.repeat(20)))).toBe(
      RecipientErrorCode.SECRET_UNREADABLE,
    );
    const tampered = { ...sealed, ciphertext: Uint8Array.from(sealed.ciphertext) };
    tampered.ciphertext[0] ^= 1;
    expect(fail(() => new SecretCipher(key).open(tampered, recipient))).toBe(
      RecipientErrorCode.SECRET_UNREADABLE,
    );
  });
});
