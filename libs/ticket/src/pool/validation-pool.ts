import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  concatBatchChecks,
  slicePackedBatch,
  type PackedTicketBatch,
  type TicketBatchChecks,
} from '../batch-verifier.js';
import type { CryptoBackendName } from '../crypto/backend.js';
import { TicketError, TicketErrorCode } from '../errors.js';
import type { BatchVerifier } from '../ticket-validator.js';
import type { ValidationReply, ValidationRequest, ValidationWorkerData } from './worker-protocol.js';
import { workerEntry } from './worker-entry.js';

export interface ValidationPoolOptions {
  /** Worker threads; defaults to the number of cores. */
  size?: number;
  /** Chunks waiting for a thread beyond which new batches are refused; default 1024. */
  maxQueuedChunks?: number;
  /** A batch is split into chunks of at least this many tickets; default 64. */
  minChunkSize?: number;
  backend?: CryptoBackendName | 'auto';
}

interface Task {
  id: number;
  batch: PackedTicketBatch;
  resolve: (checks: TicketBatchChecks) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  task: Task | null;
}

/**
 * A small pool of worker threads verifying ticket batches off the event loop. Large batches are
 * split across threads; the queue is bounded (VALIDATION_POOL_BUSY beyond it); a thread that
 * dies fails its chunk with VALIDATION_WORKER_FAILED and is replaced on demand. Idle threads do
 * not keep the process alive; `close()` ends them and fails whatever is still queued.
 */
export class ValidationPool {
  private readonly size: number;
  private readonly maxQueuedChunks: number;
  private readonly minChunkSize: number;
  private readonly workerData: ValidationWorkerData;
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;
  private closed = false;

  constructor(options: ValidationPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism());
    this.maxQueuedChunks = options.maxQueuedChunks ?? 1024;
    this.minChunkSize = Math.max(1, options.minChunkSize ?? 64);
    this.workerData = { backend: options.backend ?? 'auto' };
  }

  /** Number of threads the pool runs at most. */
  get threads(): number {
    return this.size;
  }

  /** This pool as the `verify` option of `receiveTicketBatch`. */
  readonly verifier: BatchVerifier = (batch) => this.verify(batch);

  /** Verifies a packed batch across the threads; resolves with the checks of all its tickets in order. */
  async verify(batch: PackedTicketBatch): Promise<TicketBatchChecks> {
    if (this.closed)
      throw new TicketError(TicketErrorCode.VALIDATION_POOL_CLOSED, 'validation pool is closed');
    const count = batch.nonces.length;
    const chunks = Math.max(1, Math.min(this.size, Math.ceil(count / this.minChunkSize)));
    if (this.queue.length + chunks > this.maxQueuedChunks) {
      throw new TicketError(TicketErrorCode.VALIDATION_POOL_BUSY, 'validation pool queue is full');
    }
    const chunkSize = Math.ceil(count / chunks);
    const parts: Promise<TicketBatchChecks>[] = [];
    for (let start = 0; start < count || parts.length === 0; start += chunkSize) {
      // Always a copy: its buffers are transferred to the thread and the caller's stay intact.
      const chunk = slicePackedBatch(batch, start, Math.min(count, start + chunkSize));
      parts.push(
        new Promise((resolve, reject) =>
          this.queue.push({ id: this.nextId++, batch: chunk, resolve, reject }),
        ),
      );
    }
    this.dispatch();
    return concatBatchChecks(await Promise.all(parts));
  }

  /** Terminates the threads; queued and running chunks fail with VALIDATION_POOL_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new TicketError(TicketErrorCode.VALIDATION_POOL_CLOSED, 'validation pool is closed');
    for (const task of this.queue.splice(0)) task.reject(error);
    const running = this.workers.splice(0);
    for (const pw of running) pw.task?.reject(error);
    await Promise.all(running.map((pw) => pw.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const pw = this.workers.find((w) => w.task === null) ?? this.spawn();
      if (!pw) return;
      const task = this.queue.shift() as Task;
      pw.task = task;
      pw.worker.ref();
      const { batch } = task;
      const request: ValidationRequest = { id: task.id, batch };
      const buffers = [batch.nonces.buffer, batch.sigs.buffer, batch.sigOffsets.buffer] as ArrayBuffer[];
      pw.worker.postMessage(request, buffers);
    }
  }

  private spawn(): PoolWorker | null {
    if (this.closed || this.workers.length >= this.size) return null;
    const { url, execArgv } = workerEntry('validation-worker');
    const pw: PoolWorker = { worker: new Worker(url, { workerData: this.workerData, execArgv }), task: null };
    pw.worker.on('message', (reply: ValidationReply) => this.onReply(pw, reply));
    pw.worker.on('error', (error) => this.onFailure(pw, error));
    pw.worker.on('exit', (code) =>
      this.onFailure(pw, new Error(`validation worker exited with code ${code}`)),
    );
    this.workers.push(pw);
    return pw;
  }

  private onReply(pw: PoolWorker, reply: ValidationReply): void {
    const task = pw.task;
    if (!task || task.id !== reply.id) return;
    pw.task = null;
    pw.worker.unref();
    if (reply.ok) task.resolve(reply.checks);
    else task.reject(new TicketError(TicketErrorCode.VALIDATION_WORKER_FAILED, reply.message));
    this.dispatch();
  }

  private onFailure(pw: PoolWorker, cause: Error): void {
    const index = this.workers.indexOf(pw);
    if (index < 0) return;
    this.workers.splice(index, 1);
    pw.task?.reject(
      new TicketError(TicketErrorCode.VALIDATION_WORKER_FAILED, 'validation worker failed', { cause }),
    );
    pw.task = null;
    void pw.worker.terminate();
    this.dispatch();
  }
}
