import { createHmac, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { bytesToHex, equalBytes, keccak256 } from '#app/ticket';
import { SenderAccounts } from '../accounts/sender-accounts.js';
import type { SenderAccount } from '../accounts/keystore-loader.js';
import { SenderConfig } from '../sender.config.js';
import { AccountSignatures } from './account-signatures.js';
import { RemoteSignerError, RemoteSignerErrorCode } from './remote-signer.error.js';

/**
 * Seals the state blob the gateway carries, so a state it altered or made up is refused. With
 * SENDER_REMOTE_SIGNER_STATE_SECRET (the same on every replica): HMAC-SHA256, 32 bytes, cheap.
 * Without: go-livepeer's way, the personal-sign of keccak256(state) by the session's account.
 */
@Injectable()
export class StateSeal {
  private readonly secret: Buffer | undefined;

  constructor(
    config: SenderConfig,
    private readonly accounts: SenderAccounts,
    private readonly signatures: AccountSignatures,
  ) {
    const secret = config.values.SENDER_REMOTE_SIGNER_STATE_SECRET;
    this.secret = secret === undefined ? undefined : Buffer.from(secret, 'utf8');
  }

  async seal(state: Uint8Array, account: SenderAccount): Promise<Uint8Array> {
    if (this.secret) return this.hmac(state);
    return this.signatures.signPersonal(account, keccak256(state));
  }

  /**
   * Throws INVALID_STATE_SIGNATURE unless `sig` seals `state`; in signature mode the signer must
   * be an account served here and is returned (the state's `Sender` must then name it).
   */
  open(state: Uint8Array, sig: Uint8Array): { signer?: string } {
    if (this.secret) {
      const expected = this.hmac(state);
      if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) throw invalidSig();
      return {};
    }
    const signer = this.signatures.recoverPersonal(keccak256(state), sig);
    const account = signer && this.accounts.get(bytesToHex(signer));
    if (!account || !equalBytes(account.address, signer)) throw invalidSig();
    return { signer: account.addressHex };
  }

  private hmac(state: Uint8Array): Buffer {
    return createHmac('sha256', this.secret!).update(state).digest();
  }
}

const invalidSig = () =>
  new RemoteSignerError(
    RemoteSignerErrorCode.INVALID_STATE_SIGNATURE,
    'invalid sig: the state was not sealed here',
  );
