import { Injectable } from '@nestjs/common';
import { personalSigner, selectCryptoBackend, type Address, type CryptoBackend } from '#app/ticket';
import type { SenderAccount } from '../accounts/keystore-loader.js';

/**
 * The one place the remote signer signs with a sender account (orchestrator-info request,
 * segment credentials, state when no HMAC secret is set): the EIP-191 personal-sign of a 32-byte
 * hash, 65 bytes r‖s‖v with v ∈ {27, 28} — go-livepeer's `Sign(msg)` is this over keccak256(msg).
 * Signing goes through the account's AccountSigner port (keystore key or Web3Signer).
 */
@Injectable()
export class AccountSignatures {
  private readonly backend: CryptoBackend = selectCryptoBackend();

  signPersonal(account: SenderAccount, hash32: Uint8Array): Promise<Uint8Array> {
    return account.signer.signPersonal(hash32);
  }

  /** The address that personal-signed `hash32`, or null; low-s and v ∈ {27, 28} required. */
  recoverPersonal(hash32: Uint8Array, sig: Uint8Array): Address | null {
    return personalSigner(hash32, sig, this.backend);
  }
}
