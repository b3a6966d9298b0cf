import { ADDRESS_LENGTH, HASH_LENGTH, SIGNATURE_LENGTH } from '../constants.js';
import type { CryptoBackendName } from '../crypto/backend.js';
import type { RecoveredSigners, RecoveryJobs } from '../signer-recovery.js';

/**
 * The memory a RecoveryHelper shares with its thread. Slots of `control` (Int32, read and written
 * with Atomics only):
 * - REQUEST: the sequence number of the latest set of jobs; STOPPED ends the thread.
 * - PARKED: the last request the thread is done with (it claims nothing more of it).
 * - COUNT: jobs in the latest request.
 * - NEXT: the next job to claim; both threads claim jobs one at a time with Atomics.add.
 * - FINISHED: jobs whose outcome is written (the calling thread spins on it for the last ones).
 * - READY: 1 once the thread runs.
 */
export enum Slot {
  REQUEST = 0,
  PARKED = 1,
  COUNT = 2,
  NEXT = 3,
  FINISHED = 4,
  READY = 5,
}
const SLOTS = 6;

/** REQUEST's value telling the thread to end. */
export const STOPPED = -1;

export interface RecoveryHelperData {
  buffer: SharedArrayBuffer;
  capacity: number;
  backend: CryptoBackendName;
}

export interface SharedRecovery {
  control: Int32Array;
  jobs: Pick<RecoveryJobs, 'digests' | 'sigs'>;
  out: RecoveredSigners;
}

const JOB_BYTES = HASH_LENGTH + SIGNATURE_LENGTH + ADDRESS_LENGTH + 1;

/** A buffer for `capacity` jobs. */
export function sharedRecoveryBuffer(capacity: number): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * 4 + capacity * JOB_BYTES);
}

/** The views both threads use on a buffer from `sharedRecoveryBuffer`. */
export function sharedRecovery(buffer: SharedArrayBuffer, capacity: number): SharedRecovery {
  let at = SLOTS * 4;
  const take = (bytes: number): Uint8Array => {
    const view = new Uint8Array(buffer, at, bytes);
    at += bytes;
    return view;
  };
  return {
    control: new Int32Array(buffer, 0, SLOTS),
    jobs: { digests: take(capacity * HASH_LENGTH), sigs: take(capacity * SIGNATURE_LENGTH) },
    out: { signers: take(capacity * ADDRESS_LENGTH), recovered: take(capacity) },
  };
}
