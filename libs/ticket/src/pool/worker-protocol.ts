import type { PackedTicketBatch, TicketBatchChecks } from '../batch-verifier.js';
import type { CryptoBackendName } from '../crypto/backend.js';

/** Passed as `workerData`. */
export interface ValidationWorkerData {
  backend: CryptoBackendName | 'auto';
}

export interface ValidationRequest {
  id: number;
  batch: PackedTicketBatch;
}

export type ValidationReply =
  { id: number; ok: true; checks: TicketBatchChecks } | { id: number; ok: false; message: string };
