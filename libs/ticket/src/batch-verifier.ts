import { ADDRESS_LENGTH, HASH_LENGTH, SIGNATURE_LENGTH } from './constants.js';
import type { CryptoBackend } from './crypto/backend.js';
import { PersonalDigester, SignatureFault, signatureFormatFault, signerFault } from './signature.js';
import { RecoveryMark, recoverInThread, type SignerRecovery } from './signer-recovery.js';
import { TicketHasher, assertSenderNonce, type TicketTemplate } from './ticket-hash.js';
import type { TicketSenderParams } from './types.js';
import { WinChecker } from './win.js';

/**
 * The per-ticket cryptographic work of one batch (hash, signature, lottery) in a compact,
 * transferable form: the worker pool ships it to threads with one copy of each array.
 */
export interface PackedTicketBatch {
  template: TicketTemplate;
  /** Needed for the lottery; it stays inside the process (worker threads included). */
  recipientRand: bigint;
  nonces: Uint32Array;
  /** All signatures back to back; ticket i's is sigs[sigOffsets[i] .. sigOffsets[i + 1]). */
  sigs: Uint8Array;
  sigOffsets: Uint32Array;
}

/** Ticket status codes in `TicketBatchChecks.status`. */
export enum TicketCheckStatus {
  VALID_LOST = 0,
  VALID_WON = 1,
  BAD_LENGTH = 2,
  BAD_RECOVERY_ID = 3,
  HIGH_S = 4,
  UNRECOVERABLE = 5,
  WRONG_SIGNER = 6,
}

/** Results of `verifyPackedBatch`: hash i is hashes[32i .. 32i + 32), its outcome status[i]. */
export interface TicketBatchChecks {
  hashes: Uint8Array;
  status: Uint8Array;
}

const FAULT_STATUS: Record<SignatureFault, TicketCheckStatus> = {
  [SignatureFault.LENGTH]: TicketCheckStatus.BAD_LENGTH,
  [SignatureFault.RECOVERY_ID]: TicketCheckStatus.BAD_RECOVERY_ID,
  [SignatureFault.HIGH_S]: TicketCheckStatus.HIGH_S,
  [SignatureFault.UNRECOVERABLE]: TicketCheckStatus.UNRECOVERABLE,
  [SignatureFault.WRONG_SIGNER]: TicketCheckStatus.WRONG_SIGNER,
};

const STATUS_FAULT = new Map<TicketCheckStatus, SignatureFault>(
  Object.entries(FAULT_STATUS).map(([fault, status]) => [status, fault as SignatureFault]),
);

/** The signature fault a status stands for, or null for a valid ticket. */
export function statusFault(status: number): SignatureFault | null {
  return STATUS_FAULT.get(status) ?? null;
}

/** Packs a batch's tickets; checks every nonce because a Uint32Array would silently wrap bad ones. */
export function packTicketBatch(
  template: TicketTemplate,
  recipientRand: bigint,
  senderParams: readonly TicketSenderParams[],
): PackedTicketBatch {
  const nonces = new Uint32Array(senderParams.length);
  const sigOffsets = new Uint32Array(senderParams.length + 1);
  let total = 0;
  for (let i = 0; i < senderParams.length; i++) {
    assertSenderNonce(senderParams[i].senderNonce);
    nonces[i] = senderParams[i].senderNonce;
    total += senderParams[i].sig.length;
    sigOffsets[i + 1] = total;
  }
  const sigs = new Uint8Array(total);
  for (let i = 0; i < senderParams.length; i++) sigs.set(senderParams[i].sig, sigOffsets[i]);
  return { template, recipientRand, nonces, sigs, sigOffsets };
}

/**
 * Tickets [start, end) of a packed batch in arrays of their own, sharing nothing with it: the
 * pool transfers or clones them, and a clone of a view would carry its whole backing buffer.
 */
export function slicePackedBatch(batch: PackedTicketBatch, start: number, end: number): PackedTicketBatch {
  const from = batch.sigOffsets[start];
  const offsets = batch.sigOffsets.slice(start, end + 1);
  for (let i = 0; i < offsets.length; i++) offsets[i] -= from;
  const t = batch.template;
  return {
    template: {
      ...t,
      recipient: t.recipient.slice(),
      sender: t.sender.slice(),
      recipientRandHash: t.recipientRandHash.slice(),
      creationRoundBlockHash: t.creationRoundBlockHash.slice(),
    },
    recipientRand: batch.recipientRand,
    nonces: batch.nonces.slice(start, end),
    sigs: batch.sigs.slice(from, batch.sigOffsets[end]),
    sigOffsets: offsets,
  };
}

/** Joins the checks of consecutive slices back into one result. */
export function concatBatchChecks(parts: readonly TicketBatchChecks[]): TicketBatchChecks {
  if (parts.length === 1) return parts[0];
  const count = parts.reduce((n, part) => n + part.status.length, 0);
  const joined: TicketBatchChecks = {
    hashes: new Uint8Array(count * HASH_LENGTH),
    status: new Uint8Array(count),
  };
  let at = 0;
  for (const part of parts) {
    joined.hashes.set(part.hashes, at * HASH_LENGTH);
    joined.status.set(part.status, at);
    at += part.status.length;
  }
  return joined;
}

/**
 * Hashes every ticket, verifies its signature against the template's sender and runs the
 * lottery for the valid ones (an invalid ticket never counts as won, as in go-livepeer), all on
 * the calling thread.
 */
export function verifyPackedBatch(batch: PackedTicketBatch, backend: CryptoBackend): TicketBatchChecks {
  return verifyPackedBatches([batch], recoverInThread(backend))[0];
}

/**
 * `verifyPackedBatch` over several batches at once, their signature recoveries (nearly all of the
 * work) run as one set by `recover`, which may share them with a helper thread. In three passes:
 * hashes, digests and format checks; the recoveries; signers compared and the lottery. This is
 * the hot loop: buffers are shared across tickets and nothing is hex-encoded.
 */
export function verifyPackedBatches(
  batches: readonly PackedTicketBatch[],
  recover: SignerRecovery,
): TicketBatchChecks[] {
  let tickets = 0;
  for (const batch of batches) tickets += batch.nonces.length;
  const digests = new Uint8Array(tickets * HASH_LENGTH);
  const sigs = new Uint8Array(tickets * SIGNATURE_LENGTH);
  /** Each ticket's recovery job, in batch order; -1 for a signature refused on its format. */
  const jobOf = new Int32Array(tickets);
  const digester = new PersonalDigester();
  let jobs = 0;
  let ticket = 0;
  const checks = batches.map((batch) => {
    const count = batch.nonces.length;
    const hasher = new TicketHasher(batch.template);
    const hashes = new Uint8Array(count * HASH_LENGTH);
    const status = new Uint8Array(count);
    for (let i = 0; i < count; i++, ticket++) {
      const hash = hasher.hash(batch.nonces[i]);
      hashes.set(hash, i * HASH_LENGTH);
      const sig = batch.sigs.subarray(batch.sigOffsets[i], batch.sigOffsets[i + 1]);
      const fault = signatureFormatFault(sig);
      if (fault) {
        status[i] = FAULT_STATUS[fault];
        jobOf[ticket] = -1;
        continue;
      }
      digests.set(digester.digest(hash), jobs * HASH_LENGTH);
      sigs.set(sig, jobs * SIGNATURE_LENGTH);
      jobOf[ticket] = jobs++;
    }
    return { hashes, status };
  });
  const { signers, recovered } = recover({ count: jobs, digests, sigs });
  ticket = 0;
  batches.forEach((batch, b) => {
    const { status } = checks[b];
    const lottery = new WinChecker(batch.recipientRand, batch.template.winProb);
    for (let i = 0; i < batch.nonces.length; i++, ticket++) {
      const job = jobOf[ticket];
      if (job < 0) continue;
      const signer =
        (recovered[job] as RecoveryMark) === RecoveryMark.RECOVERED
          ? signers.subarray(job * ADDRESS_LENGTH, (job + 1) * ADDRESS_LENGTH)
          : null;
      const fault = signerFault(batch.template.sender, signer);
      if (fault) status[i] = FAULT_STATUS[fault];
      else {
        const sig = sigs.subarray(job * SIGNATURE_LENGTH, (job + 1) * SIGNATURE_LENGTH);
        status[i] = lottery.isWinning(sig) ? TicketCheckStatus.VALID_WON : TicketCheckStatus.VALID_LOST;
      }
    }
  });
  return checks;
}
