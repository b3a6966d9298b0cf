import type { Address, Bytes32 } from '../types.js';

export type CryptoBackendName = 'native' | 'noble';

/**
 * secp256k1 operations behind one interface so the native libsecp256k1 binding and the pure-JS
 * fallback are interchangeable; both must give identical results on every input.
 */
export interface CryptoBackend {
  readonly name: CryptoBackendName;

  /**
   * Address of the key that produced `sig` (65 bytes r‖s‖v, v ∈ {27, 28}) over `digest`, or null
   * when no key recovers (r or s out of range, r not on the curve, …). Format rules such as
   * low-s are the caller's job (see `signatureFault`).
   */
  recoverAddress(digest: Bytes32, sig: Uint8Array): Address | null;

  /** RFC 6979 deterministic, low-s signature over a 32-byte digest: r‖s‖v with v ∈ {27, 28}. */
  sign(digest: Bytes32, privateKey: Uint8Array): Uint8Array;

  /** Ethereum address of a 32-byte private key. */
  addressOf(privateKey: Uint8Array): Address;
}
