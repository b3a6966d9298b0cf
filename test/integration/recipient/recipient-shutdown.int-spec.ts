import { status } from '@grpc/grpc-js';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecipientCallError } from '#app/clients';
import { createDataSource, WinningTicketRepository } from '#app/database';
import { ticketParamsCodec } from '#app/proto';
import { toWinningTicketRow } from '#app/queue';
import { step } from '#app/testing';
import { Rational, bytesToHex, hexToBytes, ticketEV } from '#app/ticket';
import {
  ALWAYS_WIN,
  issue,
  paymentMessage,
  ratio,
  signBatch,
  startHarness,
  type RecipientHarness,
  type TestSender,
} from './recipient-fixture.js';

// A Recipient closed while payments are in flight must leave each one either whole (answered,
// credited, its winner stored) or untouched (refused before anything was recorded, so the same
// payment is accepted later). Cut midway, a payment would keep its nonces without its credit.
describe('Recipient: closing with payments in flight', () => {
  let h: RecipientHarness;
  let sender: TestSender;

  beforeAll(async () => {
    h = await startHarness('recipient-shutdown');
    sender = await h.newSender();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers the payments it took before its connections close; the others can be sent again', async () => {
    const r = await h.boot(ALWAYS_WIN);
    const issued = await issue(r, sender);
    const params = ticketParamsCodec.fromMessage(issued.ticketParams);
    const ev = ticketEV(params.faceValue, params.winProb);
    const jobId = 'job-shutdown';
    const payments = Array.from({ length: 200 }, (_, i) =>
      paymentMessage(issued, signBatch(issued, sender, [i + 1])),
    );

    // Postgres is held up, so the payments' winners wait to be stored while the service closes.
    const blocker = new pg.Client({ connectionString: h.env.DATABASE_URL });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE winning_ticket IN SHARE ROW EXCLUSIVE MODE');
    const outcomes = payments.map((payment) =>
      r.client.processPayment({ payment, jobId }).then(
        (res) => ({ ok: true as const, res }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    );
    await waitForLockWaiters(blocker);
    const closing = r.app.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await blocker.query('COMMIT');
    await blocker.end();
    await closing;
    const settled = await Promise.all(outcomes);
    r.client.close();

    const answered = settled.filter((o) => o.ok);
    // The payments held up by Postgres were in flight when the close began: answered all the same.
    expect(answered.length).toBeGreaterThan(0);
    for (const o of answered) expect(o.res.tickets[0]).toMatchObject({ accepted: true, won: true });

    const after = await h.boot(ALWAYS_WIN);
    // Every answered payment was credited, and nothing else.
    const balance = await after.client.balance({ sender: sender.address, jobId });
    const credited = ev.mul(Rational.of(BigInt(answered.length)));
    expect(ratio(balance.balance)).toBe(`${credited.num}/${credited.den}`);
    // Every answered payment's winner was stored.
    expect(await after.countWinners(bytesToHex(params.recipientRandHash))).toBe(answered.length);
    // A refused one recorded nothing: sent again, it is accepted.
    const refused = payments.filter((_, i) => !settled[i].ok);
    for (const payment of refused) {
      const res = await after.client.processPayment({ payment, jobId });
      expect(res.tickets[0]).toMatchObject({ accepted: true, errorCode: '' });
    }
    const all = await after.client.balance({ sender: sender.address, jobId });
    const total = ev.mul(Rational.of(BigInt(payments.length)));
    expect(ratio(all.balance)).toBe(`${total.num}/${total.den}`);
  });

  it('cuts a payment still in flight at the drain bound (GRPC_DRAIN_MS)', async () => {
    const r = await h.boot({ ...ALWAYS_WIN, GRPC_DRAIN_MS: '200' });
    const issued = await issue(r, sender);
    const payment = paymentMessage(issued, signBatch(issued, sender, [1]));

    // Postgres holds the payment's winner until after the payment has failed: it never finishes.
    const blocker = new pg.Client({ connectionString: h.env.DATABASE_URL });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE winning_ticket IN SHARE ROW EXCLUSIVE MODE');
    const outcome = r.client.processPayment({ payment, jobId: 'job-cut' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    await waitForLockWaiters(blocker);
    const closing = r.app.close();
    // Cut by the drain (CANCELLED), before its stores close under it (UNAVAILABLE) and before the
    // client's own deadline (DEADLINE_EXCEEDED, 10 s).
    const error = await outcome;
    await blocker.query('ROLLBACK');
    await blocker.end();
    await closing;
    r.client.close();
    expect(error).toBeInstanceOf(RecipientCallError);
    expect((error as RecipientCallError).status).toBe(status.CANCELLED);
  });

  it('closes while its reconciler is bringing back missing jobs', async () => {
    // Stored winners of this file's recipient without jobs: the intake's reconciler re-creates
    // them one by one from boot, so the close below comes in the middle of its pass. (Other
    // files' Recipients serve other recipients: they leave these rows alone.)
    const ds = await createDataSource(h.env.DATABASE_URL).initialize();
    const repo = new WinningTicketRepository(ds);
    const rows = Array.from({ length: 1_500 }, (_, i) =>
      toWinningTicketRow({
        recipient: hexToBytes(h.recipient, 'recipient', 20),
        sender: sender.address,
        faceValue: 1_000n,
        winProb: 1n << 255n,
        senderNonce: i + 1,
        recipientRandHash: randomBytes(32),
        creationRound: 1n,
        creationRoundBlockHash: randomBytes(32),
        paramsExpirationBlock: 1_000_000n,
        sig: randomBytes(65),
        recipientRand: 7n,
      }),
    );
    const hashes = rows.map((row) => row.ticketHash);
    try {
      await repo.insertAllIfAbsent(rows);
      const r = await h.boot(ALWAYS_WIN);
      for (let i = 0; i < 400 && (await r.queue.count()) < 20; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const jobs = await r.queue.count();
      // Mid-pass: a pass takes at most 1,000 tickets, and the next one is a minute away.
      expect(jobs).toBeGreaterThanOrEqual(20);
      expect(jobs).toBeLessThan(1_000);
      await step('close during a reconcile pass', 20_000, r.close());
    } finally {
      // Left behind, they would be every other file's Recipients' backlog.
      await ds.query('DELETE FROM winning_ticket WHERE ticket_hash = ANY($1)', [hashes]);
      await ds.destroy();
    }
  });
});

/** Waits until some session waits for a lock `holder`'s transaction holds. */
async function waitForLockWaiters(holder: pg.Client): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await holder.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND $1 = ANY(pg_blocking_pids(pid))`,
      [await backendPid(holder)],
    );
    if (Number(rows[0].n) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('no payment waited for the locked table');
}

async function backendPid(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0].pid;
}
