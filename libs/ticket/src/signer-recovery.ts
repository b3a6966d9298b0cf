import { ADDRESS_LENGTH, HASH_LENGTH, SIGNATURE_LENGTH } from './constants.js';
import type { CryptoBackend } from './crypto/backend.js';

/**
 * Signature recoveries to run, back to back: job i's EIP-191 digest is digests[32i, 32i + 32), its
 * signature (well-formed: 65 bytes, low s, v ∈ {27, 28}) sigs[65i, 65i + 65).
 */
export interface RecoveryJobs {
  count: number;
  digests: Uint8Array;
  sigs: Uint8Array;
}

/** Job i's outcome in `recovered[i]`. */
export enum RecoveryMark {
  /** Not run yet (a helper thread's shared buffer starts each job so). */
  PENDING = 0,
  /** A key recovered; its address is signers[20i, 20i + 20). */
  RECOVERED = 1,
  /** No key recovers (r or s out of range, r not an x-coordinate). */
  NONE = 2,
}

export interface RecoveredSigners {
  signers: Uint8Array;
  recovered: Uint8Array;
}

/** Runs a set of recoveries: on this thread, or shared with a helper thread (RecoveryHelper). */
export type SignerRecovery = (jobs: RecoveryJobs) => RecoveredSigners;

/** Fresh result arrays for `count` jobs, every one PENDING. */
export function recoveredSigners(count: number): RecoveredSigners {
  return { signers: new Uint8Array(count * ADDRESS_LENGTH), recovered: new Uint8Array(count) };
}

/** Runs job `index` of `jobs` and writes its outcome at the same index of `out`. */
export function recoverJob(
  backend: CryptoBackend,
  jobs: Pick<RecoveryJobs, 'digests' | 'sigs'>,
  index: number,
  out: RecoveredSigners,
): void {
  const digest = jobs.digests.subarray(index * HASH_LENGTH, (index + 1) * HASH_LENGTH);
  const sig = jobs.sigs.subarray(index * SIGNATURE_LENGTH, (index + 1) * SIGNATURE_LENGTH);
  const signer = backend.recoverAddress(digest, sig);
  if (signer) out.signers.set(signer, index * ADDRESS_LENGTH);
  out.recovered[index] = signer ? RecoveryMark.RECOVERED : RecoveryMark.NONE;
}

/** Every recovery on the calling thread. */
export function recoverInThread(backend: CryptoBackend): SignerRecovery {
  return (jobs) => {
    const out = recoveredSigners(jobs.count);
    for (let i = 0; i < jobs.count; i++) recoverJob(backend, jobs, i, out);
    return out;
  };
}
