import type { INestApplication } from '@nestjs/common';
import { parseEther } from 'ethers';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type WinningTicketRepository, WinningTicketStatus } from '#app/database';
import type { WinningTicketIntake } from '#app/queue';
import { privateDatabase, type PrivateDatabase } from '../../support/private-database.js';
import { startInProcessRedeemer, ticketRows } from './in-process-redeemer.js';
import { eventually, hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';

const CENTI = parseEther('1') / 100n;

// Refuses every redemption row that records a payment, counting each refusal in a sequence (a
// sequence's increments survive the rollback of the statement that raised).
const REFUSE_PAYMENTS_SQL = `
  CREATE SEQUENCE refused_payment;
  CREATE FUNCTION refuse_payment() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM nextval('refused_payment');
    RAISE EXCEPTION 'redemption row of % refused by the test', NEW.ticket_hash;
  END $$;
  CREATE TRIGGER refuse_payment BEFORE INSERT OR UPDATE ON redemption
    FOR EACH ROW WHEN (NEW.amount_paid IS NOT NULL) EXECUTE FUNCTION refuse_payment();`;

/**
 * A settlement's "ticket redeemed" and "its redemption row (tx, amount paid)" commit together: when
 * the row cannot be written the tickets stay in their tx, and the next settlement of the tx
 * decides them with their rows. On a database of this file's own (a trigger on `redemption`).
 */
describe('Redeemer settlement', () => {
  let fx: RedeemerChainFixture;
  let db: PrivateDatabase;
  let app: INestApplication;
  let intake: WinningTicketIntake;
  let tickets: WinningTicketRepository;
  let ds: DataSource;

  beforeAll(async () => {
    fx = await startRedeemerChain();
    db = await privateDatabase('redeemer_settlement');
    ({ app, intake, tickets, ds } = await startInProcessRedeemer(
      fx,
      `${inject('redisPrefix')}redeemer-settlement-int:`,
      { DATABASE_URL: db.url, REDEEMER_BATCH_WINDOW_MS: '300', REDEEMER_SETTLE_WAIT_MS: '2000' },
    ));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await fx?.stop();
  });

  const { row, until } = ticketRows(() => tickets);
  const refusals = async () =>
    Number(
      (
        await ds.query<{ n: string }[]>(
          `SELECT CASE WHEN is_called THEN last_value ELSE 0 END::text AS n FROM refused_payment`,
        )
      )[0].n,
    );

  it('leaves redeemed tickets in their tx while their redemption rows cannot be written, then settles them with the amounts paid', async () => {
    await ds.query(REFUSE_PAYMENTS_SQL);
    const sender = await fx.newSender(parseEther('1'));
    const batch = [await fx.ticket(sender, CENTI), await fx.ticket(sender, 2n * CENTI)];
    for (const t of batch) await intake.accept(t);

    // Redeemed on chain, and the settlement of the tx tried and failed more than once.
    await eventually(async () => {
      const onChain = await fx.redeemedHashes();
      return batch.every((t) => onChain.includes(hashOf(t))) || undefined;
    }, 'the tickets redeemed on chain');
    const tried = await refusals();
    await eventually(
      async () => ((await refusals()) > tried ? true : undefined),
      'another settlement refused',
    );
    for (const t of batch) expect((await row(t)).status).toBe(WinningTicketStatus.SUBMITTED);
    const paidRows = await ds.query<unknown[]>(
      `SELECT 1 FROM redemption WHERE ticket_hash = ANY($1::text[]) AND amount_paid IS NOT NULL`,
      [batch.map(hashOf)],
    );
    expect(paidRows).toEqual([]);

    await ds.query(`DROP TRIGGER refuse_payment ON redemption`);
    for (const t of batch) await until(t, WinningTicketStatus.REDEEMED);
    // Each ticket's tx (the batch window may have split them).
    const txs = await ds.query<{ ref: string; id: string; mined_hash: string }[]>(
      `SELECT ref, id::text AS id, mined_hash FROM chain_tx, unnest(refs) AS ref
        WHERE ref = ANY($1::text[]) AND status = 'mined'`,
      [batch.map(hashOf)],
    );
    const txOf = new Map(txs.map((tx) => [tx.ref, tx]));
    expect(txOf.size).toBe(batch.length);
    const rows = await ds.query<{ ticket_hash: string; chain_tx_id: string; amount_paid: string }[]>(
      `SELECT ticket_hash, chain_tx_id::text AS chain_tx_id, amount_paid::text AS amount_paid
         FROM redemption WHERE ticket_hash = ANY($1::text[])`,
      [batch.map(hashOf)],
    );
    expect(new Map(rows.map((r) => [r.ticket_hash, [r.chain_tx_id, BigInt(r.amount_paid)]]))).toEqual(
      new Map(batch.map((t) => [hashOf(t), [txOf.get(hashOf(t))!.id, t.faceValue]])),
    );
    for (const t of batch) expect((await row(t)).txHash).toBe(txOf.get(hashOf(t))!.mined_hash);
  });
});
