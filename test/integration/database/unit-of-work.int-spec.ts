import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainTxStatus } from '#app/chain';
import {
  PgTxStore,
  RedemptionRepository,
  UnitOfWork,
  WinningTicketRepository,
  WinningTicketStatus,
  createDataSource,
  type DbTransaction,
} from '#app/database';
import { privateDatabase, type PrivateDatabase } from '../../support/private-database.js';
import { hex, insertTx, submittedTicket } from './database-fixture.js';

const S = WinningTicketStatus;

// Refuses a redemption row for the tickets in `refused_ticket`: the second write of a pair fails
// after the first one went through, as a lost connection would make it.
const REFUSE_SQL = `
  CREATE TABLE refused_ticket (ticket_hash text PRIMARY KEY);
  CREATE FUNCTION refuse_redemption() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF EXISTS (SELECT 1 FROM refused_ticket WHERE ticket_hash = NEW.ticket_hash) THEN
      RAISE EXCEPTION 'redemption row of % refused by the test', NEW.ticket_hash;
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER refuse_redemption BEFORE INSERT OR UPDATE ON redemption
    FOR EACH ROW EXECUTE FUNCTION refuse_redemption();`;

/**
 * A ticket's move (WinningTicketRepository) and its bookkeeping row (RedemptionRepository), given
 * one UnitOfWork transaction, commit together or not at all. On a database of this file's own (it
 * adds a trigger to `redemption`).
 */
describe('UnitOfWork', () => {
  let db: PrivateDatabase;
  let ds: DataSource;
  let tickets: WinningTicketRepository;
  let redemptions: RedemptionRepository;
  let unit: UnitOfWork;
  /** The `chain_tx` the redemption rows point at. */
  let txId: string;

  beforeAll(async () => {
    db = await privateDatabase('unit_of_work');
    ds = await createDataSource(db.url).initialize();
    tickets = new WinningTicketRepository(ds);
    redemptions = new RedemptionRepository(ds);
    unit = new UnitOfWork(ds);
    await ds.query(REFUSE_SQL);
    txId = (await insertTx(new PgTxStore(ds))).id;
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const submitted = () => submittedTicket(tickets);

  const refuse = (hashes: string[]) =>
    ds.query(`INSERT INTO refused_ticket SELECT unnest($1::text[])`, [hashes]);
  const allow = () => ds.query(`DELETE FROM refused_ticket`);
  /** Each ticket's status, by hash. */
  const statuses = async (hashes: string[]) =>
    Object.fromEntries((await tickets.findByHashes(hashes)).map((r) => [r.ticketHash, r.status]));
  const all = (hashes: string[], status: WinningTicketStatus) =>
    Object.fromEntries(hashes.map((h) => [h, status]));
  const redemptionRows = (hashes: string[]) =>
    ds.query<
      {
        ticket_hash: string;
        chain_tx_id: string | null;
        amount_paid: string | null;
        last_code: string | null;
      }[]
    >(
      `SELECT ticket_hash, chain_tx_id, amount_paid, last_code FROM redemption
        WHERE ticket_hash = ANY($1::text[]) ORDER BY ticket_hash`,
      [hashes],
    );

  /** What a settlement does for a tx that redeemed `hashes`, paying `paid` for each. */
  const redeem = (hashes: string[], paid: (hash: string) => bigint) =>
    unit.run(async (trx) => {
      const moved = await tickets.settleAll(
        hashes,
        { status: S.REDEEMED, txHash: hex(32), statusReason: null },
        trx,
      );
      await redemptions.recordRedeemedAll(
        moved.map((ticketHash) => ({ ticketHash, amountPaid: paid(ticketHash) })),
        txId,
        trx,
      );
      return moved;
    });

  it('leaves redeemed tickets in their tx when their redemption rows cannot be written, and settles them with their rows next time', async () => {
    const hashes = [await submitted(), await submitted(), await submitted()].sort();
    const paid = (hash: string) => (hash === hashes[1] ? 400n : 1_000n);
    await refuse([hashes[2]]);

    await expect(redeem(hashes, paid)).rejects.toThrow(/refused by the test/);
    expect(await statuses(hashes)).toEqual(all(hashes, S.SUBMITTED));
    expect(await redemptionRows(hashes)).toEqual([]);

    await allow();
    expect((await redeem(hashes, paid)).sort()).toEqual(hashes);
    expect(await statuses(hashes)).toEqual(all(hashes, S.REDEEMED));
    expect(await redemptionRows(hashes)).toEqual(
      hashes.map((h) => ({
        ticket_hash: h,
        chain_tx_id: txId,
        amount_paid: paid(h).toString(),
        last_code: null,
      })),
    );
    // Compare-and-set: a settlement run again moves nothing and writes no row.
    expect(await redeem(hashes, () => 1n)).toEqual([]);
    expect((await redemptionRows(hashes)).map((r) => r.amount_paid)).toEqual(
      hashes.map((h) => paid(h).toString()),
    );
  });

  it('commits a failed(TICKET_USED) move with its code, or neither', async () => {
    const hash = await submitted();
    const used = () =>
      redemptions.moveWithCode(
        hash,
        (trx) => tickets.settle(hash, { status: S.FAILED, statusReason: 'TICKET_USED' }, trx),
        { code: 'TICKET_USED' },
      );
    await refuse([hash]);
    await expect(used()).rejects.toThrow(/refused by the test/);
    expect(await statuses([hash])).toEqual(all([hash], S.SUBMITTED));

    await allow();
    expect(await used()).toBe(true);
    expect(await statuses([hash])).toEqual(all([hash], S.FAILED));
    expect((await redemptionRows([hash]))[0].last_code).toBe('TICKET_USED');
    // Final now: the move does not happen again, and no note is written for it.
    await ds.query(`UPDATE redemption SET last_code = NULL WHERE ticket_hash = $1`, [hash]);
    expect(await used()).toBe(false);
    expect((await redemptionRows([hash]))[0].last_code).toBeNull();
  });

  it("counts a requeue's retry with its move inside the caller's unit, rolled back with it", async () => {
    const hash = await submitted();
    const requeue = (trx?: DbTransaction) =>
      redemptions.moveWithCode(
        hash,
        (t) => tickets.requeue(hash, 'TX_DROPPED', t),
        { code: 'TX_DROPPED', retry: true, error: 'RECEIPT_LOST' },
        trx,
      );
    await expect(
      unit.run(async (trx) => {
        expect(await requeue(trx)).toBe(true);
        throw new Error('cut short');
      }),
    ).rejects.toThrow('cut short');
    expect(await statuses([hash])).toEqual(all([hash], S.SUBMITTED));
    expect(await redemptions.attempts(hash)).toBe(0);

    expect(await unit.run((trx) => requeue(trx))).toBe(true);
    expect(await statuses([hash])).toEqual(all([hash], S.QUEUED));
    expect(await redemptions.attempts(hash)).toBe(1);
    expect(await requeue()).toBe(false);
    expect(await redemptions.attempts(hash)).toBe(1);
  });

  it("corrects a final tx's row in the caller's unit, only from the status it was read in", async () => {
    const store = new PgTxStore(ds);
    const tx = await insertTx(store);
    await store.finish(tx.id, { status: ChainTxStatus.DROPPED, errorCode: 'TX_DROPPED' });
    const minedHash = hex(32);
    const mined = { status: ChainTxStatus.MINED, minedHash, blockNumber: 7n, gasUsed: 21_000n } as const;

    await expect(
      unit.run(async (trx) => {
        expect(await store.correct(tx.id, ChainTxStatus.DROPPED, mined, trx)).toBe(true);
        throw new Error('cut short');
      }),
    ).rejects.toThrow('cut short');
    expect((await store.get(tx.id))!.status).toBe(ChainTxStatus.DROPPED);

    expect(await unit.run((trx) => store.correct(tx.id, ChainTxStatus.DROPPED, mined, trx))).toBe(true);
    expect(await store.get(tx.id)).toMatchObject({
      status: ChainTxStatus.MINED,
      minedHash,
      blockNumber: 7n,
      gasUsed: 21_000n,
      errorCode: null,
    });
    // Read as dropped by a settlement that comes second: nothing changes.
    expect(await store.correct(tx.id, ChainTxStatus.DROPPED, { status: ChainTxStatus.REVERTED })).toBe(false);
    expect((await store.get(tx.id))!.status).toBe(ChainTxStatus.MINED);
  });

  it('finishes a pending tx of another signer only if no variant was signed since it was read, and dates it', async () => {
    const store = new PgTxStore(ds);
    const read = await insertTx(store);
    await store.addReplacement(read.id, {
      hash: hex(32),
      rawTx: '0x',
      sentBlock: 2n,
      maxFeePerGas: 2n,
      maxPriorityFeePerGas: 1n,
      gasPrice: null,
    });
    const dropped = { status: ChainTxStatus.DROPPED, errorCode: 'TX_DROPPED' } as const;
    // Re-signed by its own Redeemer since it was read: a variant the reader never looked up.
    expect(await store.correct(read.id, read, dropped)).toBe(false);
    const again = (await store.get(read.id))!;
    expect(again).toMatchObject({ status: ChainTxStatus.PENDING, replacements: 1, finishedAt: null });

    expect(await unit.run((trx) => store.correct(again.id, again, dropped, trx))).toBe(true);
    expect(await store.get(read.id)).toMatchObject({
      status: ChainTxStatus.DROPPED,
      errorCode: 'TX_DROPPED',
    });
    expect((await store.get(read.id))!.finishedAt).toBeInstanceOf(Date);
  });

  it('keeps the writes of a rolled-back unit out of sight of other connections, and commits the others', async () => {
    const [a, b] = [await submitted(), await submitted()];
    let inside: unknown;
    await expect(
      unit.run(async (trx) => {
        await tickets.requeue(a, 'TX_REVERTED', trx);
        await redemptions.recordRetry(a, 'TX_REVERTED', null, trx);
        // Not committed yet: another connection still sees the ticket in its tx.
        inside = (await tickets.findByHashes([a]))[0].status;
        throw new Error('cut short');
      }),
    ).rejects.toThrow('cut short');
    expect(inside).toBe(S.SUBMITTED);
    expect(await statuses([a])).toEqual(all([a], S.SUBMITTED));
    expect(await redemptions.attempts(a)).toBe(0);

    await unit.run(async (trx) => {
      await tickets.requeue(b, 'TX_REVERTED', trx);
      await redemptions.recordRetry(b, 'TX_REVERTED', null, trx);
    });
    expect(await statuses([b])).toEqual(all([b], S.QUEUED));
    expect(await redemptions.attempts(b)).toBe(1);
  });
});
