import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';

const ALGORITHM = 'aes-256-gcm';
const IV_LENGTH = 12;
const TAG_LENGTH = 16;

/** A secret sealed with AES-256-GCM; the tag authenticates the ciphertext and the associated data. */
export interface SealedSecret {
  iv: Uint8Array;
  ciphertext: Uint8Array;
  authTag: Uint8Array;
}

/**
 * Encrypts the recipient secret at rest. The associated data binds a ciphertext to the recipient
 * address it was made for, so a row copied to another recipient does not decrypt there.
 */
export class SecretCipher {
  constructor(private readonly key: Uint8Array) {
    if (key.length !== 32) throw new Error('the secret encryption key must be 32 bytes');
  }

  seal(secret: Uint8Array, associatedData: string): SealedSecret {
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
    return { iv, ciphertext, authTag: cipher.getAuthTag() };
  }

  /** Throws SECRET_UNREADABLE for a wrong key, a tampered row or other associated data. */
  open(sealed: SealedSecret, associatedData: string): Uint8Array {
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, sealed.iv, { authTagLength: TAG_LENGTH });
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(sealed.authTag);
      return Uint8Array.from(Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]));
    } catch (cause) {
      throw new RecipientError(
        RecipientErrorCode.SECRET_UNREADABLE,
        'the stored recipient secret does not decrypt with RECIPIENT_SECRET_KEY',
        { cause },
      );
    }
  }
}
