import { workerData } from 'node:worker_threads';
import { selectCryptoBackend } from '../crypto/select-backend.js';
import { recoverJob } from '../signer-recovery.js';
import { STOPPED, Slot, sharedRecovery, type RecoveryHelperData } from './recovery-helper-protocol.js';

// Entry of a RecoveryHelper thread. It never returns to its event loop: it sleeps in
// Atomics.wait until a request comes, claims jobs until none is left, then parks again.
const { buffer, capacity, backend: name } = workerData as RecoveryHelperData;
const backend = selectCryptoBackend(name);
const { control, jobs, out } = sharedRecovery(buffer, capacity);

// Read before READY is set: a request posted after it is then always seen as new.
let seen = Atomics.load(control, Slot.REQUEST);
Atomics.store(control, Slot.READY, 1);
for (;;) {
  Atomics.wait(control, Slot.REQUEST, seen);
  const request = Atomics.load(control, Slot.REQUEST);
  if (request === STOPPED) break;
  if (request === seen) continue;
  seen = request;
  const count = Atomics.load(control, Slot.COUNT);
  for (let job = Atomics.add(control, Slot.NEXT, 1); job < count; job = Atomics.add(control, Slot.NEXT, 1)) {
    recoverJob(backend, jobs, job, out);
    Atomics.add(control, Slot.FINISHED, 1);
  }
  Atomics.store(control, Slot.PARKED, request);
}
