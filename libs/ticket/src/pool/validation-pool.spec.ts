import { afterEach, describe, expect, it } from 'vitest';
import {
  InMemoryNonceLedger,
  TicketErrorCode,
  ValidationPool,
  bytesToHex,
  packTicketBatch,
  receiveTicketBatch,
  selectCryptoBackend,
  verifyPackedBatch,
  type PackedTicketBatch,
} from '#app/ticket';
import { validBatch } from '../../test/fixtures.js';

function packedBatch(count: number): PackedTicketBatch {
  const { batch, recipientRand } = validBatch({ nonces: Array.from({ length: count }, (_, i) => i + 1) });
  const template = { ...batch.params, ...batch.expirationParams, sender: batch.sender };
  // Ticket 3 carries ticket 4's signature: one invalid ticket in the middle.
  const senderParams = batch.senderParams.map((p, i) =>
    i === 3 ? { ...p, sig: batch.senderParams[4].sig } : p,
  );
  return packTicketBatch(template, recipientRand, senderParams);
}

describe('ValidationPool', () => {
  let pool: ValidationPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('verifies a batch split across threads exactly as the calling thread does', async () => {
    pool = new ValidationPool({ size: 2, minChunkSize: 4 });
    const batch = packedBatch(20);
    const expected = verifyPackedBatch(batch, selectCryptoBackend());
    const checks = await pool.verify(batch);
    expect(bytesToHex(checks.hashes)).toBe(bytesToHex(expected.hashes));
    expect([...checks.status]).toEqual([...expected.status]);
    expect(batch.nonces).toHaveLength(20); // the caller's arrays were copied, not transferred
    const again = await Promise.all([pool.verify(batch), pool.verify(packedBatch(1))]);
    expect([...again[0].status]).toEqual([...expected.status]);
    expect(again[1].status).toHaveLength(1);
  }, 30_000);

  it('plugs into receiveTicketBatch', async () => {
    pool = new ValidationPool({ size: 2, minChunkSize: 2 });
    const { batch, ctx } = validBatch({ nonces: [1, 2, 3, 4, 5] });
    const received = await receiveTicketBatch(batch, ctx, {
      ledger: new InMemoryNonceLedger(),
      verify: pool.verifier,
    });
    expect(received.map((r) => r.error)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  }, 30_000);

  it('propagates a failure inside a thread as a typed error and keeps serving', async () => {
    pool = new ValidationPool({ size: 1 });
    const bad = packedBatch(2);
    bad.template = { ...bad.template, recipient: new Uint8Array(19) };
    await expect(pool.verify(bad)).rejects.toMatchObject({
      code: TicketErrorCode.VALIDATION_WORKER_FAILED,
      message: 'recipient must be 20 bytes',
    });
    await expect(pool.verify(packedBatch(2))).resolves.toBeDefined();
  }, 30_000);

  it('fails the running chunk when its thread dies, then replaces the thread', async () => {
    pool = new ValidationPool({ size: 1, backend: 'noble' });
    const running = pool.verify(packedBatch(40));
    const workers = (pool as unknown as { workers: { worker: { terminate(): Promise<number> } }[] }).workers;
    await workers[0].worker.terminate();
    await expect(running).rejects.toMatchObject({ code: TicketErrorCode.VALIDATION_WORKER_FAILED });
    await expect(pool.verify(packedBatch(2))).resolves.toBeDefined();
  }, 30_000);

  it('refuses work beyond its queue bound and after close', async () => {
    pool = new ValidationPool({ size: 1, maxQueuedChunks: 1 });
    const first = pool.verify(packedBatch(2));
    const second = pool.verify(packedBatch(2));
    await expect(pool.verify(packedBatch(2))).rejects.toMatchObject({
      code: TicketErrorCode.VALIDATION_POOL_BUSY,
    });
    await Promise.all([first, second]);
    const closedError = { code: TicketErrorCode.VALIDATION_POOL_CLOSED };
    const running = expect(pool.verify(packedBatch(2))).rejects.toMatchObject(closedError);
    const queued = expect(pool.verify(packedBatch(2))).rejects.toMatchObject(closedError);
    await pool.close();
    await Promise.all([running, queued]);
    await expect(pool.verify(packedBatch(1))).rejects.toMatchObject({
      code: TicketErrorCode.VALIDATION_POOL_CLOSED,
    });
  }, 30_000);
});
