import { assertLength, bytesToHex } from './bytes.js';
import { HASH_LENGTH } from './constants.js';
import type { CryptoBackend } from './crypto/backend.js';
import { selectCryptoBackend } from './crypto/select-backend.js';
import { PersonalDigester } from './signature.js';
import type { Address, Bytes32 } from './types.js';

/**
 * The port every ticket and orchestrator-info signature goes through: one sender account whose
 * key may live in this process (a keystore) or elsewhere (a remote signing service). It signs
 * 32-byte hashes the way go-livepeer's `Signer.Sign` does: EIP-191 personal message
 * ("\x19Ethereum Signed Message:\n32" ‖ hash), 65 bytes r‖s‖v with v ∈ {27, 28}.
 */
export abstract class AccountSigner {
  abstract readonly address: Address;
  /** Lowercase 0x-hex address. */
  abstract readonly addressHex: string;
  /** Where the key lives, for logs (a keystore path, a signer URL); never a secret. */
  abstract readonly source: string;

  /** EIP-191 personal signature of a 32-byte hash. */
  abstract signPersonal(hash32: Bytes32): Promise<Uint8Array>;

  /**
   * Signatures of several hashes, in their order. The default asks for each one and lets the
   * implementation bound its concurrency; a signer with a cheaper path for many overrides it.
   */
  signPersonalBatch(hashes: readonly Bytes32[]): Promise<Uint8Array[]> {
    return Promise.all(hashes.map((hash) => this.signPersonal(hash)));
  }
}

/**
 * A signer holding its key in this process (decrypted from a keystore). Signing is synchronous
 * native secp256k1 underneath; the batch path signs every hash in one loop with a reused digest
 * buffer, so going through the port costs one promise per batch, not per ticket. The key sits in
 * an ECMAScript private field: neither JSON nor util.inspect shows it.
 */
export class PrivateKeySigner extends AccountSigner {
  readonly address: Address;
  readonly addressHex: string;
  readonly #key: Uint8Array;
  readonly #backend: CryptoBackend;
  readonly #digester = new PersonalDigester();

  constructor(
    privateKey: Uint8Array,
    readonly source: string,
    backend: CryptoBackend = selectCryptoBackend(),
  ) {
    super();
    this.#backend = backend;
    this.address = backend.addressOf(privateKey);
    this.addressHex = bytesToHex(this.address);
    this.#key = Uint8Array.from(privateKey);
  }

  signPersonal(hash32: Bytes32): Promise<Uint8Array> {
    return settle(() => this.signPersonalSync(hash32));
  }

  override signPersonalBatch(hashes: readonly Bytes32[]): Promise<Uint8Array[]> {
    return settle(() => hashes.map((hash) => this.signPersonalSync(hash)));
  }

  /** The synchronous path, for callers that sign in a tight loop on this thread. */
  signPersonalSync(hash32: Bytes32): Uint8Array {
    assertLength(hash32, HASH_LENGTH, 'hash');
    return this.#backend.sign(this.#digester.digest(hash32), this.#key);
  }
}

/** The outcome of a synchronous step as a promise: a throw becomes a rejection, as from any other signer. */
function settle<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
