import { randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RecoveryHelper,
  RecoveryMark,
  bytesToHex,
  nobleBackend,
  personalDigest,
  recoverInThread,
  selectCryptoBackend,
  signTicketHash,
  type RecoveryJobs,
} from '#app/ticket';
import { SENDER_KEY } from '../../test/fixtures.js';

const randomBytes32 = (): Uint8Array => new Uint8Array(randomBytes(32));

/** `count` jobs: mostly good signatures, every 5th with r = 0 (recovers nothing), every 7th over another digest. */
function jobs(count: number): RecoveryJobs {
  const digests = new Uint8Array(count * 32);
  const sigs = new Uint8Array(count * 65);
  for (let i = 0; i < count; i++) {
    const hash = randomBytes32();
    const sig = signTicketHash(hash, SENDER_KEY, nobleBackend);
    if (i % 5 === 4) sig.fill(0, 0, 32);
    digests.set(personalDigest(i % 7 === 6 ? randomBytes32() : hash), i * 32);
    sigs.set(sig, i * 65);
  }
  return { count, digests, sigs };
}

async function untilReady(helper: RecoveryHelper): Promise<void> {
  for (let i = 0; i < 300 && !helper.ready; i++) await new Promise((r) => setTimeout(r, 20));
  expect(helper.ready).toBe(true);
}

/** The helper's current thread (private: only the exited-thread case needs to reach it). */
function workerOf(helper: RecoveryHelper): Worker {
  return (helper as unknown as { thread: { worker: Worker } }).thread.worker;
}

describe('RecoveryHelper', () => {
  let helper: RecoveryHelper | undefined;
  afterEach(async () => {
    await helper?.close();
    helper = undefined;
  });

  it('recovers exactly what the calling thread alone does, its thread taking a share', async () => {
    helper = new RecoveryHelper();
    await untilReady(helper);
    const alone = recoverInThread(selectCryptoBackend());
    for (const count of [0, 1, 2, 3, 40, 40, 40]) {
      const set = jobs(count);
      const expected = alone(set);
      const got = helper.recover(set);
      expect(bytesToHex(got.signers)).toBe(bytesToHex(expected.signers));
      expect([...got.recovered]).toEqual([...expected.recovered]);
    }
    expect(new Set(alone(jobs(10)).recovered)).toEqual(new Set([RecoveryMark.RECOVERED, RecoveryMark.NONE]));
    expect(helper.counts.helped).toBeGreaterThan(0);
  }, 30_000);

  it('takes more jobs than it shares: the rest run on the calling thread', async () => {
    helper = new RecoveryHelper({ capacity: 4 });
    await untilReady(helper);
    const set = jobs(11);
    const expected = recoverInThread(selectCryptoBackend())(set);
    const got = helper.recover(set);
    expect(bytesToHex(got.signers)).toBe(bytesToHex(expected.signers));
    expect([...got.recovered]).toEqual([...expected.recovered]);
  }, 30_000);

  it('runs again a job its thread has not finished in time', async () => {
    // Pure-JS recoveries (~2 ms each) and no grace: when the calling thread has claimed the last
    // job, the one the helper is still running is run again here.
    helper = new RecoveryHelper({ backend: 'noble', graceMs: 0 });
    const alone = recoverInThread(nobleBackend);
    for (let attempt = 0; attempt < 20 && helper.counts.redone === 0; attempt++) {
      await untilReady(helper);
      const set = jobs(6);
      const got = helper.recover(set);
      expect(bytesToHex(got.signers)).toBe(bytesToHex(alone(set).signers));
      expect([...got.recovered]).toEqual([...alone(set).recovered]);
    }
    expect(helper.counts.redone).toBeGreaterThan(0);
  }, 60_000);

  it('replaces a thread that exited', async () => {
    helper = new RecoveryHelper({ restartMs: 0 });
    await untilReady(helper);
    const first = workerOf(helper);
    const exited = new Promise((resolve) => first.once('exit', resolve));
    await first.terminate();
    await exited;
    await untilReady(helper);
    expect(workerOf(helper)).not.toBe(first);
    const set = jobs(40);
    const expected = recoverInThread(selectCryptoBackend())(set);
    expect(bytesToHex(helper.recover(set).signers)).toBe(bytesToHex(expected.signers));
  }, 30_000);

  it('works alone before its thread is up and after close', async () => {
    helper = new RecoveryHelper();
    const set = jobs(8);
    const expected = recoverInThread(selectCryptoBackend())(set);
    expect([...helper.recover(set).recovered]).toEqual([...expected.recovered]);
    await helper.close();
    expect(helper.ready).toBe(false);
    expect(bytesToHex(helper.recover(set).signers)).toBe(bytesToHex(expected.signers));
    expect(helper.counts.helped).toBe(0);
  }, 30_000);
});
