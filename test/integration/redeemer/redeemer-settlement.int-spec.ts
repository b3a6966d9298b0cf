import type { INestApplication } from '@nestjs/common';
import { hexlify, parseEther, randomBytes } from 'ethers';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ChainTxStatus, TxManager, TxStore, type TxFinish } from '#app/chain';
import { type WinningTicketRepository, WinningTicketStatus } from '#app/database';
import { toWinningTicketRow, type WinningTicketIntake } from '#app/queue';
import type { SignedTicket } from '#app/ticket';
import { InFlight } from '../../../apps/redeemer/src/redemption/in-flight.js';
import { RedemptionService } from '../../../apps/redeemer/src/redemption/redemption.service.js';
import { RedemptionBatcher } from '../../../apps/redeemer/src/redemption/redemption-batcher.js';
import { RedeemerChain } from '../../../apps/redeemer/src/redemption/redeemer-chain.js';
import { RedeemerConfig } from '../../../apps/redeemer/src/redeemer.config.js';
import { RedeemerMetrics } from '../../../apps/redeemer/src/metrics/redeemer.metrics.js';
import {
  RECEIPT_LOST,
  RECEIPT_LOST_BLOCKS,
  RECEIPT_LOST_MS,
  SettlementService,
} from '../../../apps/redeemer/src/redemption/settlement.service.js';
import { startJsonRpcProxy, type JsonRpcProxy } from '../../support/json-rpc-proxy.js';
import { privateDatabase, type PrivateDatabase } from '../../support/private-database.js';
import { startInProcessRedeemer, ticketRows } from './in-process-redeemer.js';
import {
  eventually,
  hashOf,
  redeemDirectly,
  startRedeemerChain,
  type RedeemerChainFixture,
} from './redeemer-fixture.js';

const CENTI = parseEther('1') / 100n;
/**
 * The Redeemer reads the chain through a provider that refuses eth_getLogs spans wider than this
 * ("query returned more than 10000 results"), far below the RECEIPT_LOST_BLOCKS its log look-ups
 * reach back and the default ETH_LOGS_MAX_BLOCKS: they must still decide by the logs.
 */
const PROVIDER_LOG_SPAN = 16;

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
 * decides them with their rows. On a database of this file's own (a trigger on `redemption`), and
 * through an RPC that caps eth_getLogs spans (PROVIDER_LOG_SPAN).
 */
describe('Redeemer settlement', () => {
  let fx: RedeemerChainFixture;
  let proxy: JsonRpcProxy;
  let db: PrivateDatabase;
  let app: INestApplication;
  let intake: WinningTicketIntake;
  let tickets: WinningTicketRepository;
  let ds: DataSource;

  beforeAll(async () => {
    fx = await startRedeemerChain();
    proxy = await startJsonRpcProxy(fx.anvil.url);
    proxy.capLogSpan(PROVIDER_LOG_SPAN);
    db = await privateDatabase('redeemer_settlement');
    ({ app, intake, tickets, ds } = await startInProcessRedeemer(
      fx,
      `${inject('redisPrefix')}redeemer-settlement-int:`,
      {
        DATABASE_URL: db.url,
        ETH_RPC_URL: proxy.url,
        REDEEMER_BATCH_WINDOW_MS: '300',
        REDEEMER_SETTLE_WAIT_MS: '2000',
      },
    ));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await proxy?.stop();
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

  it('keeps the tickets of a tx whose insert may have committed claimed, follows the stored tx and settles it, sending nothing twice', async () => {
    // The insert of the next tx commits but its answer is lost, and the look-up by its signed hash
    // fails too (the database unreachable a moment): the send says the tx may have been stored.
    const store = app.get(TxStore);
    const insert = store.insert.bind(store);
    const findSigned = store.findSigned.bind(store);
    let lose = 1;
    store.insert = async (tx) => {
      const stored = await insert(tx);
      if (lose > 0) {
        lose--;
        throw new Error('Connection terminated unexpectedly');
      }
      return stored;
    };
    store.findSigned = () => Promise.reject(new Error('connect ECONNREFUSED'));
    try {
      const sender = await fx.newSender(parseEther('1'));
      const t = await fx.ticket(sender, CENTI);
      await intake.accept(t);
      await eventually(() => Promise.resolve(lose === 0 || undefined), 'the insert answer lost');
      // Still claimed (not put back in line to be sent again) while the stored tx is followed.
      expect((await row(t)).status).toBe(WinningTicketStatus.SUBMITTING);
      expect(await until(t, WinningTicketStatus.REDEEMED)).toMatchObject({ statusReason: null });

      // One tx only, the one stored then: its redemption row, and one redemption on chain.
      const txsOfTicket = await ds.query<{ id: string; status: string; mined_hash: string }[]>(
        `SELECT id::text AS id, status, mined_hash FROM chain_tx WHERE $1 = ANY(refs)`,
        [hashOf(t)],
      );
      expect(txsOfTicket.map((tx) => tx.status)).toEqual(['mined']);
      expect((await row(t)).txHash).toBe(txsOfTicket[0].mined_hash);
      expect(await paidBy(t)).toEqual({
        chain_tx_id: txsOfTicket[0].id,
        amount_paid: t.faceValue.toString(),
      });
      expect((await fx.redeemedHashes()).filter((h) => h === hashOf(t))).toHaveLength(1);
    } finally {
      store.insert = insert;
      store.findSigned = findSigned;
    }
  });

  /**
   * Stores `t` (or each of `t`) as submitted in a tx of the Redeemer's own signer that is already
   * final with `outcome` (as if the Redeemer had sent it), signed under `hashes`; the tx's id. At a
   * nonce far above the signer's, so it never meets a tx the Redeemer sends meanwhile.
   */
  async function submittedIn(
    t: SignedTicket | SignedTicket[],
    hashes: [string, ...string[]],
    outcome: TxFinish,
  ) {
    const txs = app.get(TxManager);
    const store = app.get(TxStore);
    const all = Array.isArray(t) ? t : [t];
    for (const one of all) await tickets.insertIfAbsent(toWinningTicketRow(one));
    await ds.query(
      `UPDATE winning_ticket SET status = 'submitted', tx_hash = $2 WHERE ticket_hash = ANY($1::text[])`,
      [all.map(hashOf), hashes[0]],
    );
    const nonce = 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
    const tx = await store.insert({
      chainId: txs.chain,
      signer: txs.address,
      nonce,
      purpose: 'redeem',
      to: (await fx.broker.getAddress()).toLowerCase(),
      data: '0x',
      value: 0n,
      gasLimit: 300_000n,
      refs: all.map(hashOf),
      hash: hashes[0],
      rawTx: '0x00',
      sentBlock: await fx.blockNumber(),
      maxFeePerGas: null,
      maxPriorityFeePerGas: null,
      gasPrice: 1n,
    });
    for (const hash of hashes.slice(1)) {
      await store.addReplacement(tx.id, {
        hash,
        rawTx: '0x00',
        sentBlock: 0n,
        gasPrice: 2n,
        maxFeePerGas: null,
        maxPriorityFeePerGas: null,
      });
    }
    await store.finish(tx.id, outcome);
    await store.saveNextNonce(txs.chain, txs.address, txs.nextNonce());
    return tx.id;
  }

  const randomHash = () => hexlify(randomBytes(32));
  /** A ticket of a given-up tx, back in line as the settlement leaves it. */
  const requeue = (t: SignedTicket) =>
    ds.query(`UPDATE winning_ticket SET status = 'queued', status_reason = NULL WHERE ticket_hash = $1`, [
      hashOf(t),
    ]);

  it('does not decide the tickets of a mined tx whose receipt the node cannot give, and settles them once it can', async () => {
    const sender = await fx.newSender(parseEther('1'));
    const t = await fx.ticket(sender, CENTI);
    // Our own tx used the ticket, but the node answering now does not know that tx (a lagging or
    // load-balanced node): the ticket is used on chain and its receipt is missing.
    const minedHash = await redeemDirectly(fx, t);
    const unknown = randomHash();
    const txId = await submittedIn(t, [unknown], {
      status: ChainTxStatus.MINED,
      minedHash: unknown,
      blockNumber: await fx.blockNumber(),
    });
    const settlement = app.get(SettlementService);

    await settlement.settle(txId);
    expect(await row(t)).toMatchObject({ status: WinningTicketStatus.SUBMITTED, statusReason: null });
    const written = await ds.query<unknown[]>(`SELECT 1 FROM redemption WHERE ticket_hash = $1`, [hashOf(t)]);
    expect(written).toEqual([]);

    // The receipt can be read now: the next settlement (here the ticket's own, or ours) redeems it.
    await ds.query(`UPDATE chain_tx SET mined_hash = $2 WHERE id = $1`, [txId, minedHash]);
    await settlement.settle(txId);
    expect(await until(t, WinningTicketStatus.REDEEMED)).toMatchObject({ txHash: minedHash });
    const paid = await ds.query<{ amount_paid: string }[]>(
      `SELECT amount_paid::text AS amount_paid FROM redemption WHERE ticket_hash = $1`,
      [hashOf(t)],
    );
    expect(paid.map((p) => BigInt(p.amount_paid))).toEqual([t.faceValue]);
  });

  it('settles a dropped tx from the receipt of one of its signed variants that was mined after all', async () => {
    const sender = await fx.newSender(parseEther('1'));
    const t = await fx.ticket(sender, CENTI);
    const minedHash = await redeemDirectly(fx, t);
    const txId = await submittedIn(t, [randomHash(), minedHash], {
      status: ChainTxStatus.DROPPED,
      errorCode: 'TX_DROPPED',
    });

    await app.get(SettlementService).settle(txId);
    expect(await until(t, WinningTicketStatus.REDEEMED)).toMatchObject({ txHash: minedHash });
    // The tx's own row says where it was mined, as its tickets and redemption rows do.
    await expectMinedAs(txId, minedHash);
    expect(await paidBy(t)).toEqual({ chain_tx_id: txId, amount_paid: t.faceValue.toString() });
  });

  const txRow = async (id: string) =>
    (
      await ds.query<{ status: string; mined_hash: string | null; block_number: string | null }[]>(
        `SELECT status, mined_hash, block_number::text AS block_number, error_code FROM chain_tx WHERE id = $1`,
        [id],
      )
    )[0];
  /** The tx's row says it was mined under `minedHash`, in that tx's block. */
  const expectMinedAs = async (txId: string, minedHash: string) => {
    const receipt = (await fx.provider.getTransactionReceipt(minedHash))!;
    expect(await txRow(txId)).toEqual({
      status: 'mined',
      mined_hash: minedHash,
      block_number: String(receipt.blockNumber),
      error_code: null,
    });
  };
  const paidBy = async (t: SignedTicket) =>
    (
      await ds.query<{ chain_tx_id: string | null; amount_paid: string | null }[]>(
        `SELECT chain_tx_id::text AS chain_tx_id, amount_paid::text AS amount_paid FROM redemption
          WHERE ticket_hash = $1`,
        [hashOf(t)],
      )
    )[0];

  /**
   * Makes the receipt of mined tx `txId` lost for good: its block RECEIPT_LOST_BLOCKS under the
   * head, and recorded mined RECEIPT_LOST_MS ago.
   */
  async function outliveReceipt(txId: string) {
    await fx.mine(Number(RECEIPT_LOST_BLOCKS) + 1);
    await ds.query(`UPDATE chain_tx SET finished_at = now() - $2 * interval '1 millisecond' WHERE id = $1`, [
      txId,
      RECEIPT_LOST_MS + 60_000,
    ]);
  }
  const lostCount = async (outcome: string) =>
    (await app.get(RedeemerMetrics).receiptsLost.get()).values.find((v) => v.labels.outcome === outcome)
      ?.value ?? 0;

  it('decides the tickets of a mined tx whose receipt stays lost from the chain: unused back in line, used by another tx redeemed by it, the tx dropped', async () => {
    const sender = await fx.newSender(parseEther('1'));
    const [unused, usedElsewhere] = [await fx.ticket(sender, CENTI), await fx.ticket(sender, CENTI)];
    // A third party used one ticket; our tx, mined under a hash no node knows any more, is gone (a reorg).
    const otherHash = await redeemDirectly(fx, usedElsewhere);
    const gone = randomHash();
    const txId = await submittedIn([unused, usedElsewhere], [gone], {
      status: ChainTxStatus.MINED,
      minedHash: gone,
      blockNumber: await fx.blockNumber(),
    });
    const settlement = app.get(SettlementService);

    // Not yet lost for good: the receipt may only be late.
    await settlement.settle(txId);
    for (const t of [unused, usedElsewhere])
      expect((await row(t)).status).toBe(WinningTicketStatus.SUBMITTED);
    expect((await txRow(txId)).status).toBe('mined');

    await outliveReceipt(txId);
    const before = await lostCount('dropped');
    const refused = proxy.refusedLogs;
    await settlement.settle(txId);
    // The used ticket's look-up in the logs was refused wide and asked again narrower.
    expect(proxy.refusedLogs).toBeGreaterThan(refused);
    expect(await row(unused)).toMatchObject({
      status: WinningTicketStatus.QUEUED,
      statusReason: 'TX_DROPPED',
    });
    // Our recipient was paid by the other tx: redeemed by it, no tx of ours named as the payer.
    expect(await row(usedElsewhere)).toMatchObject({
      status: WinningTicketStatus.REDEEMED,
      statusReason: null,
      txHash: otherHash,
    });
    expect(await paidBy(usedElsewhere)).toEqual({
      chain_tx_id: null,
      amount_paid: usedElsewhere.faceValue.toString(),
    });
    const notes = await ds.query<{ ticket_hash: string; attempts: number; last_code: string | null }[]>(
      `SELECT ticket_hash, attempts, last_code FROM redemption WHERE ticket_hash = ANY($1::text[])`,
      [[unused, usedElsewhere].map(hashOf)],
    );
    expect(new Map(notes.map((n) => [n.ticket_hash, [n.attempts, n.last_code]]))).toEqual(
      new Map([
        [hashOf(unused), [1, 'TX_DROPPED']],
        [hashOf(usedElsewhere), [0, null]],
      ]),
    );
    expect(await txRow(txId)).toEqual({
      status: 'dropped',
      mined_hash: null,
      block_number: null,
      error_code: 'RECEIPT_LOST',
    });
    expect(await lostCount('dropped')).toBe(before + 1);
    expect(otherHash).not.toBe(gone);

    // Settled again (a job's follow-up): nothing moves twice.
    await settlement.settle(txId);
    expect((await row(unused)).status).toBe(WinningTicketStatus.QUEUED);
    expect(await lostCount('dropped')).toBe(before + 1);
  });

  it('settles a ticket of a mined tx whose receipt no node gives by the broker logs of its redemption by that tx', async () => {
    // The blocks mined above left the round uninitialized.
    await fx.nextRound();
    const sender = await fx.newSender(parseEther('1'));
    const t = await fx.ticket(sender, CENTI);
    // The tx redeemed the ticket, but nodes no longer find its receipt by hash (an index pruned):
    // only the broker's logs say which tx used the ticket.
    const minedHash = await redeemDirectly(fx, t);
    const stale = randomHash();
    const txId = await submittedIn(t, [stale, minedHash], {
      status: ChainTxStatus.MINED,
      minedHash: stale,
      blockNumber: await fx.blockNumber(),
    });
    const txs = app.get(TxManager);
    const findReceipt = txs.findReceipt.bind(txs);
    txs.findReceipt = () => Promise.resolve(null);
    try {
      await outliveReceipt(txId);
      const before = await lostCount('mined');
      const refused = proxy.refusedLogs;
      await app.get(SettlementService).settle(txId);
      expect(proxy.refusedLogs).toBeGreaterThan(refused);
      expect(await row(t)).toMatchObject({ status: WinningTicketStatus.REDEEMED, txHash: minedHash });
      expect(await lostCount('mined')).toBe(before + 1);
    } finally {
      txs.findReceipt = findReceipt;
    }
    expect(await paidBy(t)).toEqual({ chain_tx_id: txId, amount_paid: t.faceValue.toString() });
    await expectMinedAs(txId, minedHash);
  });

  it('redeems a ticket found used by its next tx when an earlier tx of ours, given up as RECEIPT_LOST, was mined after all', async () => {
    await fx.nextRound();
    const sender = await fx.newSender(parseEther('1'));
    const t = await fx.ticket(sender, CENTI);
    // Our first tx was given up (its receipt lost) and its ticket put back in line; a node mined
    // it later after all. The ticket's next tx found it used and was dropped.
    const lateHash = await redeemDirectly(fx, t);
    const first = await submittedIn(t, [lateHash], {
      status: ChainTxStatus.DROPPED,
      errorCode: RECEIPT_LOST,
    });
    const second = await submittedIn(t, [randomHash()], {
      status: ChainTxStatus.DROPPED,
      errorCode: 'TX_DROPPED',
    });

    const refused = proxy.refusedLogs;
    await app.get(SettlementService).settle(second);
    expect(proxy.refusedLogs).toBeGreaterThan(refused);
    expect(await row(t)).toMatchObject({
      status: WinningTicketStatus.REDEEMED,
      statusReason: null,
      txHash: lateHash,
    });
    expect(await paidBy(t)).toEqual({ chain_tx_id: first, amount_paid: t.faceValue.toString() });
    // The first tx's row says it was mined; the second stays dropped.
    await expectMinedAs(first, lateHash);
    expect((await txRow(second)).status).toBe('dropped');
  });

  it('redeems a requeued ticket its simulation finds used when its tx of ours, given up as RECEIPT_LOST, was mined after all', async () => {
    const sender = await fx.newSender(parseEther('1'));
    // Its params long expired: the polled head may lag the block the ticket was made at.
    const t = await fx.ticket(sender, CENTI, { expirationBlock: 1n });
    // Our tx was given up (its receipt lost) and its ticket put back in line; a node mined it
    // later after all, so its next attempt's simulation reverts with "ticket is used".
    const lateHash = await redeemDirectly(fx, t);
    const txId = await submittedIn(t, [lateHash], { status: ChainTxStatus.DROPPED, errorCode: RECEIPT_LOST });
    await requeue(t);

    expect(await app.get(RedemptionService).process(hashOf(t))).toEqual({
      kind: 'done',
      status: WinningTicketStatus.REDEEMED,
    });
    expect(await row(t)).toMatchObject({ status: WinningTicketStatus.REDEEMED, txHash: lateHash });
    expect(await paidBy(t)).toEqual({ chain_tx_id: txId, amount_paid: t.faceValue.toString() });
    await expectMinedAs(txId, lateHash);
  });

  it('redeems a requeued ticket its simulation finds used by a tx not ours, through its last tx: paid by that tx', async () => {
    const sender = await fx.newSender(parseEther('1'));
    // Its params long expired: the polled head may lag the block the ticket was made at.
    const t = await fx.ticket(sender, CENTI, { expirationBlock: 1n });
    // Someone copied our tx's calldata and was mined first; ours was dropped.
    const theirs = await redeemDirectly(fx, t);
    const txId = await submittedIn(t, [randomHash()], {
      status: ChainTxStatus.DROPPED,
      errorCode: 'TX_DROPPED',
    });
    await requeue(t);

    expect(await app.get(RedemptionService).process(hashOf(t))).toEqual({
      kind: 'done',
      status: WinningTicketStatus.REDEEMED,
    });
    expect(await row(t)).toMatchObject({
      status: WinningTicketStatus.REDEEMED,
      statusReason: null,
      txHash: theirs,
    });
    expect(await paidBy(t)).toEqual({ chain_tx_id: null, amount_paid: t.faceValue.toString() });
    expect((await txRow(txId)).status).toBe('dropped');
  });

  it('fails a requeued ticket used on chain with TICKET_USED when no redemption of it is logged since our first tx revealed it', async () => {
    const sender = await fx.newSender(parseEther('1'));
    const t = await fx.ticket(sender, CENTI, { expirationBlock: 1n });
    // Used long before any tx of ours named it (only the recipient's own tooling could): out of the
    // range searched, so who was paid is not known here. (Our tx is recorded as sent more than
    // RECEIPT_LOST_BLOCKS after the other one: mining that far would end the ticket's rounds.)
    await redeemDirectly(fx, t);
    const txId = await submittedIn(t, [randomHash()], {
      status: ChainTxStatus.DROPPED,
      errorCode: 'TX_DROPPED',
    });
    await ds.query(`UPDATE chain_tx SET sent_block = sent_block + $2 WHERE id = $1`, [
      txId,
      Number(RECEIPT_LOST_BLOCKS) + 1,
    ]);
    await requeue(t);

    expect(await app.get(RedemptionService).process(hashOf(t))).toEqual({
      kind: 'done',
      status: WinningTicketStatus.FAILED,
    });
    expect(await row(t)).toMatchObject({ status: WinningTicketStatus.FAILED, statusReason: 'TICKET_USED' });
    expect(await paidBy(t)).toMatchObject({ amount_paid: null });
    expect((await txRow(txId)).status).toBe('dropped');
  });

  it('leaves to its batch a ticket claimed again after its old tx put it back in line, when that tx is settled again', async () => {
    const sender = await fx.newSender(parseEther('1'));
    const [again, other] = [await fx.ticket(sender, CENTI), await fx.ticket(sender, CENTI)];
    const txId = await submittedIn([again, other], [randomHash()], {
      status: ChainTxStatus.DROPPED,
      errorCode: 'TX_DROPPED',
    });
    const settlement = app.get(SettlementService);
    await settlement.settle(txId);
    for (const t of [again, other]) expect((await row(t)).status).toBe(WinningTicketStatus.QUEUED);

    // A batch claims one of them again; its tx is not stored yet, so the old tx is still the newest
    // naming it. Settled again (another ticket of it undecided, recovery, or this ticket's own
    // follow-up), the old tx must not put it back in line: the batch is about to send it.
    expect(await tickets.claimAll([hashOf(again)])).toEqual([hashOf(again)]);
    await settlement.settle(txId);
    expect((await row(again)).status).toBe(WinningTicketStatus.SUBMITTING);
    expect(await app.get(RedemptionService).process(hashOf(again))).toMatchObject({
      kind: 'later',
      code: 'IN_PROGRESS',
    });
    await app.get(RedemptionService).recoverAtBoot();
    expect((await row(again)).status).toBe(WinningTicketStatus.SUBMITTING);
    // The ticket the tx put back stays as it left it.
    expect(await row(other)).toMatchObject({
      status: WinningTicketStatus.QUEUED,
      statusReason: 'TX_DROPPED',
    });
  });

  it("cuts a back-off that would reach past the end of the ticket's last valid round to a poll interval", async () => {
    const sender = await fx.newSender(parseEther('1'));
    const previous = (await fx.nextRound()) - 1n;
    // Created last round: this round is its last (validity 2); its params long expired.
    const t = await fx.ticket(sender, CENTI, { creationRound: previous, expirationBlock: 1n });
    await tickets.insertIfAbsent(toWinningTicketRow(t));
    await requeue(t);
    // Many failures before: its back-off is the longest (REDEEMER_RETRY_MAX_MS, 5 min).
    await ds.query(`INSERT INTO redemption (ticket_hash, attempts) VALUES ($1, 30)`, [hashOf(t)]);
    // The head in the round's last blocks: a tx must go now or never.
    const chain = app.get(RedeemerChain);
    const { rounds } = await chain.latestHead();
    const lastBlock = rounds.currentRoundStartBlock + rounds.roundLength - 1n;
    await fx.mine(Number(lastBlock - (await fx.blockNumber())));
    await eventually(async () => ((await chain.head()).l1Block >= lastBlock ? true : undefined), 'head');

    const batcher = app.get(RedemptionBatcher);
    const submit = batcher.submit.bind(batcher);
    batcher.submit = () => Promise.reject(new Error('connect ECONNREFUSED'));
    try {
      expect(await app.get(RedemptionService).process(hashOf(t))).toEqual({
        kind: 'later',
        code: 'CHAIN_ERROR',
        delayMs: app.get(RedeemerConfig).values.REDEEMER_POLL_MS,
      });
    } finally {
      batcher.submit = submit;
    }
  });

  it('puts a claimed ticket with no stored tx back in line at boot only once its claim is old and no batch here holds it', async () => {
    const sender = await fx.newSender(parseEther('1'));
    const [old, fresh, held] = [
      await fx.ticket(sender, CENTI),
      await fx.ticket(sender, CENTI),
      await fx.ticket(sender, CENTI),
    ];
    for (const t of [old, fresh, held]) {
      // Params far from expiry: a ticket put back in line then waits, and its row stays as recovery left it.
      await tickets.insertIfAbsent({ ...toWinningTicketRow(t), paramsExpirationBlock: 1_000_000_000n });
    }
    await ds.query(`UPDATE winning_ticket SET status = 'submitting' WHERE ticket_hash = ANY($1::text[])`, [
      [old, fresh, held].map(hashOf),
    ]);
    await ds.query(
      `UPDATE winning_ticket SET updated_at = now() - interval '2 minutes' WHERE ticket_hash = ANY($1::text[])`,
      [[old, held].map(hashOf)],
    );
    const inFlight = app.get(InFlight);
    inFlight.hold('test-batch', [
      { ticketHash: hashOf(held), sender: hashOf(held), recipient: hashOf(held), faceValue: CENTI },
    ]);
    try {
      await app.get(RedemptionService).recoverAtBoot();
    } finally {
      inFlight.release('test-batch');
    }

    expect(await row(old)).toMatchObject({ status: WinningTicketStatus.QUEUED, statusReason: 'ORPHANED' });
    // Claimed just now: a batch may still be storing its tx.
    expect((await row(fresh)).status).toBe(WinningTicketStatus.SUBMITTING);
    // Held by a batch of this process (claimed before a lost lease, still sending).
    expect((await row(held)).status).toBe(WinningTicketStatus.SUBMITTING);
  });
});
