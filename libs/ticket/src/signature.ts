import { ADDRESS_LENGTH, HASH_LENGTH, SECP256K1_HALF_N, SIGNATURE_LENGTH } from './constants.js';
import { assertLength, compareBytes, equalBytes, uint256Bytes } from './bytes.js';
import type { CryptoBackend } from './crypto/backend.js';
import { keccak256 } from './keccak.js';
import type { Address, Bytes32 } from './types.js';

/** Why a signature is refused; every fault maps to go-livepeer's "invalid ticket signature". */
export enum SignatureFault {
  /** Not exactly 65 bytes (covers EIP-2098 64-byte compact signatures). */
  LENGTH = 'length',
  /** v is not 27 or 28 (ethers would accept 0/1; go-livepeer and the contract do not). */
  RECOVERY_ID = 'recovery-id',
  /** s > n/2: the malleable twin of a valid signature. */
  HIGH_S = 'high-s',
  /** No public key recovers (r or s zero or ≥ n, r not an x-coordinate). */
  UNRECOVERABLE = 'unrecoverable',
  /** A key recovers but it is not the sender's. */
  WRONG_SIGNER = 'wrong-signer',
}

const PERSONAL_PREFIX = new TextEncoder().encode('\x19Ethereum Signed Message:\n32');
const HALF_N_BYTES = uint256Bytes(SECP256K1_HALF_N);

/**
 * Builds EIP-191 digests of ticket hashes in a reused buffer: keccak256("\x19Ethereum Signed
 * Message:\n32" ‖ hash), what go-livepeer's `accounts.TextHash` and ethers' `hashMessage` compute.
 */
export class PersonalDigester {
  private readonly message = new Uint8Array(PERSONAL_PREFIX.length + HASH_LENGTH);

  constructor() {
    this.message.set(PERSONAL_PREFIX, 0);
  }

  digest(hash: Bytes32): Bytes32 {
    this.message.set(hash, PERSONAL_PREFIX.length);
    return keccak256(this.message);
  }
}

/** EIP-191 personal-message digest of a 32-byte ticket hash. */
export function personalDigest(hash: Bytes32): Bytes32 {
  assertLength(hash, HASH_LENGTH, 'ticketHash');
  return new PersonalDigester().digest(hash);
}

/** The format faults that need no curve arithmetic, in go-livepeer's order; null when well-formed. */
export function signatureFormatFault(sig: Uint8Array): SignatureFault | null {
  if (sig.length !== SIGNATURE_LENGTH) return SignatureFault.LENGTH;
  if (compareBytes(sig.subarray(32, 64), HALF_N_BYTES) > 0) return SignatureFault.HIGH_S;
  const v = sig[64];
  if (v !== 27 && v !== 28) return SignatureFault.RECOVERY_ID;
  return null;
}

/**
 * Checks a signature over an EIP-191 `digest` the way go-livepeer's `VerifySig` and the
 * contract's OpenZeppelin ECDSA do; null when `sender` signed it.
 */
export function signatureFault(
  sender: Address,
  digest: Bytes32,
  sig: Uint8Array,
  backend: CryptoBackend,
): SignatureFault | null {
  return signatureFormatFault(sig) ?? signerFault(sender, backend.recoverAddress(digest, sig));
}

/** The fault of a well-formed signature whose recovery gave `signer` (null: no key recovered). */
export function signerFault(sender: Address, signer: Address | null): SignatureFault | null {
  if (!signer) return SignatureFault.UNRECOVERABLE;
  return equalBytes(signer, sender) ? null : SignatureFault.WRONG_SIGNER;
}

/**
 * Who personal-signed (EIP-191) the 32-byte `hash` with a signature go-livepeer and the contract
 * accept (65 bytes, low s, v ∈ {27, 28}); null when it is malformed or recovers no key.
 */
export function personalSigner(hash: Bytes32, sig: Uint8Array, backend: CryptoBackend): Address | null {
  if (signatureFormatFault(sig) !== null) return null;
  return backend.recoverAddress(personalDigest(hash), sig);
}

/** Whether `sender` signed `ticketHash` (EIP-191) with a signature go-livepeer and the contract accept. */
export function verifyTicketSignature(
  sender: Address,
  ticketHash: Bytes32,
  sig: Uint8Array,
  backend: CryptoBackend,
): boolean {
  assertLength(sender, ADDRESS_LENGTH, 'sender');
  return signatureFault(sender, personalDigest(ticketHash), sig, backend) === null;
}

/** Signs a ticket hash as go-livepeer's `Signer.Sign` does: EIP-191 digest, 65 bytes, v ∈ {27, 28}. */
export function signTicketHash(
  ticketHash: Bytes32,
  privateKey: Uint8Array,
  backend: CryptoBackend,
): Uint8Array {
  return backend.sign(personalDigest(ticketHash), privateKey);
}
