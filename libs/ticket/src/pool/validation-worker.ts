import { parentPort, workerData } from 'node:worker_threads';
import { verifyPackedBatch } from '../batch-verifier.js';
import { selectCryptoBackend } from '../crypto/select-backend.js';
import type { ValidationReply, ValidationRequest, ValidationWorkerData } from './worker-protocol.js';

// Entry of a ValidationPool thread: verifies packed batches and sends the results back,
// transferring the result buffers instead of copying them.
const port = parentPort;
if (!port) throw new Error('validation-worker must run in a worker thread');
const backend = selectCryptoBackend((workerData as ValidationWorkerData).backend);

port.on('message', ({ id, batch }: ValidationRequest) => {
  let reply: ValidationReply;
  try {
    reply = { id, ok: true, checks: verifyPackedBatch(batch, backend) };
  } catch (error) {
    reply = { id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  const buffers = reply.ok ? [reply.checks.hashes.buffer, reply.checks.status.buffer] : [];
  port.postMessage(reply, buffers as ArrayBuffer[]);
});
