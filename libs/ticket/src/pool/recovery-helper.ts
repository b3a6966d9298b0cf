import { Worker } from 'node:worker_threads';
import { ADDRESS_LENGTH, HASH_LENGTH, SIGNATURE_LENGTH } from '../constants.js';
import type { CryptoBackend, CryptoBackendName } from '../crypto/backend.js';
import { selectCryptoBackend } from '../crypto/select-backend.js';
import {
  RecoveryMark,
  recoverJob,
  recoveredSigners,
  type RecoveredSigners,
  type RecoveryJobs,
  type SignerRecovery,
} from '../signer-recovery.js';
import {
  STOPPED,
  Slot,
  sharedRecovery,
  sharedRecoveryBuffer,
  type RecoveryHelperData,
  type SharedRecovery,
} from './recovery-helper-protocol.js';
import { workerEntry } from './worker-entry.js';

export interface RecoveryHelperOptions {
  backend?: CryptoBackendName | 'auto';
  /** Most jobs one request shares with the thread; beyond, the rest run on the calling thread. Default 1024. */
  capacity?: number;
  /**
   * How long the calling thread spins, once no job is left to claim, for the jobs the helper is
   * still running; past it the calling thread runs them itself. Default 0.2 ms (a job: ~0.07 ms).
   */
  graceMs?: number;
  /** Least time between two starts of a thread (after a failure); default 1 s. */
  restartMs?: number;
}

/** Jobs run by the helper thread, and jobs it claimed that the calling thread ran again. */
export interface RecoveryHelperCounts {
  helped: number;
  redone: number;
}

interface HelperThread {
  worker: Worker;
  shared: SharedRecovery;
  /** The latest request posted. */
  request: number;
  alive: boolean;
}

/**
 * Runs a set of signature recoveries on the calling thread and one helper thread at once,
 * synchronously: the caller's thread wakes the helper through Atomics (tens of µs, where a
 * message to an idle worker takes 0.5–0.9 ms on a 2-vCPU VM), then both claim jobs one at a time
 * from shared memory until none is left. A late helper only takes fewer jobs. The calling thread
 * never sleeps on the helper: a job the helper has not finished shortly after the last claim
 * (`graceMs`; it was descheduled, say) is run again by the calling thread, whose result is the same.
 *
 * A request is only posted to a helper that is done with the previous one (parked), so a late
 * write of the helper lands in memory nobody reads; until it parks, the calling thread works
 * alone. A helper that exits is replaced, with fresh memory. The thread does not keep the process
 * alive.
 */
export class RecoveryHelper {
  private readonly backend: CryptoBackend;
  private readonly capacity: number;
  private readonly graceMs: number;
  private readonly restartMs: number;
  private thread?: HelperThread;
  private startedAt = -Infinity;
  private closed = false;
  readonly counts: RecoveryHelperCounts = { helped: 0, redone: 0 };

  constructor(options: RecoveryHelperOptions = {}) {
    this.backend = selectCryptoBackend(options.backend ?? 'auto');
    this.capacity = Math.max(2, options.capacity ?? 1024);
    this.graceMs = options.graceMs ?? 0.2;
    this.restartMs = options.restartMs ?? 1_000;
    this.start();
  }

  /** This helper as the `recover` of `verifyPackedBatches`. */
  readonly recover: SignerRecovery = (jobs) => this.run(jobs);

  /** Whether the helper thread is up and taking jobs (it takes a moment after construction). */
  get ready(): boolean {
    const thread = this.thread;
    return !!thread?.alive && Atomics.load(thread.shared.control, Slot.READY) === 1;
  }

  /** Ends the helper thread; recoveries after this run on the calling thread. */
  async close(): Promise<void> {
    this.closed = true;
    const thread = this.thread;
    this.thread = undefined;
    if (thread) await this.stop(thread);
  }

  private run(jobs: RecoveryJobs): RecoveredSigners {
    const thread = this.available();
    if (!thread || jobs.count < 2) return this.alone(jobs, 0, recoveredSigners(jobs.count));
    const shared = Math.min(jobs.count, this.capacity);
    const { control, jobs: input, out } = thread.shared;
    input.digests.set(jobs.digests.subarray(0, shared * HASH_LENGTH));
    input.sigs.set(jobs.sigs.subarray(0, shared * SIGNATURE_LENGTH));
    out.recovered.fill(RecoveryMark.PENDING, 0, shared);
    Atomics.store(control, Slot.COUNT, shared);
    Atomics.store(control, Slot.NEXT, 0);
    Atomics.store(control, Slot.FINISHED, 0);
    Atomics.store(control, Slot.REQUEST, ++thread.request);
    Atomics.notify(control, Slot.REQUEST);

    let mine = 0;
    for (
      let job = Atomics.add(control, Slot.NEXT, 1);
      job < shared;
      job = Atomics.add(control, Slot.NEXT, 1)
    ) {
      recoverJob(this.backend, input, job, out);
      Atomics.add(control, Slot.FINISHED, 1);
      mine++;
    }
    const result = this.alone(jobs, shared, recoveredSigners(jobs.count));
    const until = performance.now() + this.graceMs;
    while (Atomics.load(control, Slot.FINISHED) < shared && performance.now() < until);
    // Job by job: a mark (stored last, atomically) says whether the helper's result is whole.
    let redone = 0;
    for (let job = 0; job < shared; job++) {
      const mark = Atomics.load(out.recovered, job);
      if (mark === (RecoveryMark.PENDING as number)) {
        recoverJob(this.backend, jobs, job, result);
        redone++;
        continue;
      }
      result.recovered[job] = mark;
      result.signers.set(
        out.signers.subarray(job * ADDRESS_LENGTH, (job + 1) * ADDRESS_LENGTH),
        job * ADDRESS_LENGTH,
      );
    }
    this.counts.helped += shared - mine - redone;
    this.counts.redone += redone;
    return result;
  }

  /** Jobs [from, count) on this thread. */
  private alone(jobs: RecoveryJobs, from: number, out: RecoveredSigners): RecoveredSigners {
    for (let job = from; job < jobs.count; job++) recoverJob(this.backend, jobs, job, out);
    return out;
  }

  /** The helper thread when it can take a request now, starting one when there is none. */
  private available(): HelperThread | undefined {
    const thread = this.thread;
    if (!thread) {
      this.start();
      return undefined;
    }
    const { control } = thread.shared;
    if (!thread.alive || Atomics.load(control, Slot.READY) !== 1) return undefined;
    return Atomics.load(control, Slot.PARKED) === thread.request ? thread : undefined;
  }

  private start(): void {
    const now = performance.now();
    if (this.closed || now - this.startedAt < this.restartMs) return;
    this.startedAt = now;
    const capacity = this.capacity;
    const buffer = sharedRecoveryBuffer(capacity);
    const data: RecoveryHelperData = { buffer, capacity, backend: this.backend.name };
    const { url, execArgv } = workerEntry('recovery-helper-worker');
    const thread: HelperThread = {
      worker: new Worker(url, { workerData: data, execArgv }),
      shared: sharedRecovery(buffer, capacity),
      request: 0,
      alive: true,
    };
    thread.worker.unref();
    thread.worker.on('error', () => this.drop(thread));
    thread.worker.on('exit', () => this.drop(thread));
    this.thread = thread;
  }

  /** Forgets a thread that failed and starts its replacement (at most one start per `restartMs`). */
  private drop(thread: HelperThread): void {
    thread.alive = false;
    if (this.thread !== thread) return;
    this.thread = undefined;
    this.start();
  }

  private async stop(thread: HelperThread): Promise<void> {
    thread.alive = false;
    Atomics.store(thread.shared.control, Slot.REQUEST, STOPPED);
    Atomics.notify(thread.shared.control, Slot.REQUEST);
    await thread.worker.terminate();
  }
}
