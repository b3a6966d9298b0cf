import { randomBytes } from 'node:crypto';
import { Wallet, hexlify, parseEther, toQuantity } from 'ethers';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { SignerLease, WinningTicketStatus, createDataSource } from '#app/database';
import type { SignedTicket } from '#app/ticket';
import { RedemptionCode } from '../../../apps/redeemer/src/redemption/redemption-code.js';
import { SettlementService } from '../../../apps/redeemer/src/redemption/settlement.service.js';
import { startInProcessRedeemer, ticketRows, type InProcessRedeemer } from './in-process-redeemer.js';
import { eventually, hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';

const ETH = parseEther('1');

interface TxRow {
  id: string;
  signer: string;
  nonce: string;
  status: string;
  hashes: string[];
  mined_hash: string | null;
  error_code: string | null;
}

/**
 * Redeemer A (the recipient's own key) stops for good with a tx in flight; Redeemer B (another key)
 * takes the recipient over. Nobody holds A's signer any more, so B settles A's tx from the chain:
 * mined → redeemed with the amount paid, A's row mined; never mined and A's nonce used by another
 * tx → its ticket back in line, redeemed by B. While a Redeemer holds A's signer, B leaves A's tx
 * to it. anvil mines only when the test says.
 */
describe("Redeemer settles another signer's tx after a handover", () => {
  let fx: RedeemerChainFixture;
  let redisPrefix: string;
  let first: InProcessRedeemer | undefined;
  let second: InProcessRedeemer | undefined;
  let otherSigner: Wallet;
  /** The test's own view of the database, whichever Redeemer runs (or none). */
  let db: DataSource;
  const { until } = ticketRows(() => (second ?? first)!.tickets);

  beforeAll(async () => {
    fx = await startRedeemerChain();
    redisPrefix = `${inject('redisPrefix')}redeemer-foreign-tx:`;
    otherSigner = new Wallet(hexlify(randomBytes(32)), fx.provider);
    await fx.provider.send('anvil_setBalance', [otherSigner.address, toQuantity(parseEther('100'))]);
    db = await createDataSource(inject('databaseUrl')).initialize();
  });

  afterEach(async () => {
    await fx.provider.send('evm_setAutomine', [true]);
    for (const r of [second, first]) await r?.app.close();
    second = first = undefined;
  });

  afterAll(async () => {
    await db?.destroy();
    await fx?.stop();
  });

  /** A sends `ticket`'s tx, left pending (anvil stops mining), and stops. */
  async function sendAndStop(ticket: SignedTicket): Promise<void> {
    first = await startInProcessRedeemer(fx, redisPrefix, {});
    await fx.provider.send('evm_setAutomine', [false]);
    await first.intake.accept(ticket);
    await until(ticket, WinningTicketStatus.SUBMITTED);
    await first.app.close();
    first = undefined;
  }

  /** B: another key, serving A's recipient. */
  async function startB(): Promise<InProcessRedeemer> {
    second = await startInProcessRedeemer(fx, redisPrefix, {
      REDEEMER_PRIVATE_KEY: otherSigner.privateKey,
      REDEEMER_RECIPIENTS: fx.recipient.address,
    });
    return second;
  }

  /** A sends `ticket`'s tx (left pending) and stops; B takes over. A's stored tx. */
  async function handOver(ticket: SignedTicket): Promise<TxRow> {
    await sendAndStop(ticket);
    await startB();
    return (await txsOf(ticket))[0];
  }

  /** The txs that carried `ticket`, oldest first. */
  const txsOf = (ticket: SignedTicket) =>
    db.query<TxRow[]>(
      `SELECT id::text AS id, signer, nonce::text AS nonce, status, hashes, mined_hash, error_code FROM chain_tx
        WHERE $1 = ANY(refs) ORDER BY id`,
      [hashOf(ticket)],
    );

  const paymentsOf = (ticket: SignedTicket) =>
    db.query<{ chain_tx_id: string; amount_paid: string }[]>(
      `SELECT chain_tx_id::text AS chain_tx_id, amount_paid::text AS amount_paid FROM redemption
        WHERE ticket_hash = $1 AND amount_paid IS NOT NULL`,
      [hashOf(ticket)],
    );

  /** A's tx recorded mined, under one of the hashes it was signed under, and the ticket paid by it. */
  async function expectPaidByAsTx(ticket: SignedTicket, sent: TxRow, redeemed: { txHash: string | null }) {
    const [tx] = await txsOf(ticket);
    expect(tx).toMatchObject({ id: sent.id, signer: fx.recipient.address.toLowerCase(), status: 'mined' });
    expect(sent.hashes).toContain(tx.mined_hash);
    expect(redeemed.txHash).toBe(tx.mined_hash);
    expect(await paymentsOf(ticket)).toEqual([{ chain_tx_id: sent.id, amount_paid: (ETH / 10n).toString() }]);
  }

  /** A's tx recorded dropped, and the ticket redeemed and paid by B's tx after it. Both txs. */
  async function expectRedeemedByB(ticket: SignedTicket): Promise<TxRow[]> {
    const redeemed = await until(ticket, WinningTicketStatus.REDEEMED);
    const txs = await txsOf(ticket);
    expect(txs.map((t) => [t.signer, t.status])).toEqual([
      [fx.recipient.address.toLowerCase(), 'dropped'],
      [otherSigner.address.toLowerCase(), 'mined'],
    ]);
    expect(redeemed.txHash).toBe(txs[1].mined_hash);
    expect(await paymentsOf(ticket)).toEqual([
      { chain_tx_id: txs[1].id, amount_paid: (ETH / 10n).toString() },
    ]);
    return txs;
  }

  /** Sends another tx of A's key at `sent`'s nonce, at `num`/`den` of its fees. */
  async function sendAtAsNonce(sent: TxRow, num: bigint, den: bigint) {
    const [fees] = await db.query<{ max_fee: string; tip: string }[]>(
      `SELECT max_fee_per_gas AS max_fee, max_priority_fee_per_gas AS tip FROM chain_tx WHERE id = $1`,
      [sent.id],
    );
    const a = new Wallet(fx.recipient.privateKey, fx.provider);
    return a.sendTransaction({
      to: a.address,
      value: 0n,
      nonce: Number(sent.nonce),
      maxFeePerGas: (BigInt(fees.max_fee) * num) / den,
      maxPriorityFeePerGas: (BigInt(fees.tip) * num) / den,
    });
  }

  it("records A's tx mined after the handover: the ticket redeemed with the amount paid, A's row mined", async () => {
    const sender = await fx.newSender(ETH);
    const ticket = await fx.ticket(sender, ETH / 10n);
    const sent = await handOver(ticket);
    expect({ signer: sent.signer, status: sent.status }).toEqual({
      signer: fx.recipient.address.toLowerCase(),
      status: 'pending',
    });

    await fx.provider.send('evm_setAutomine', [true]);
    await fx.mine(1);
    await expectPaidByAsTx(ticket, sent, await until(ticket, WinningTicketStatus.REDEEMED));
  });

  it("puts the ticket of A's dropped tx back in line once A's nonce is used, and redeems it with B's key", async () => {
    const sender = await fx.newSender(ETH);
    const ticket = await fx.ticket(sender, ETH / 10n);
    const sent = await handOver(ticket);

    // Another tx of A's key replaces it in the pool at its nonce (higher fees) and is mined: it
    // can never be.
    const replacement = await sendAtAsNonce(sent, 2n, 1n);
    await fx.provider.send('evm_mine', []);
    await fx.provider.send('evm_setAutomine', [true]);
    expect((await replacement.wait())?.status).toBe(1);

    const txs = await expectRedeemedByB(ticket);
    expect(txs[0]).toMatchObject({ id: sent.id, error_code: RedemptionCode.TX_DROPPED, mined_hash: null });
  });

  it("sends A's stored tx again when the node no longer has it (never broadcast, or forgotten), and records it mined", async () => {
    const sender = await fx.newSender(ETH);
    const ticket = await fx.ticket(sender, ETH / 10n);
    const sent = await handOver(ticket);
    // B has looked at A's tx while the node had it (nothing to send): that look must not hold back
    // the send once the node no longer has it.
    await second!.app.get(SettlementService).settle(sent.id);

    // The node forgets A's tx; A's nonce stays free, so only A's own signed bytes can take it.
    for (const hash of sent.hashes) await fx.provider.send('anvil_dropTransaction', [hash]);
    await fx.provider.send('evm_setAutomine', [true]);
    // Sent again before automine was back on, it waits in the pool for a block.
    const pooled = async () =>
      (
        await Promise.all(
          sent.hashes.map(async (h) => {
            const tx = (await fx.provider.send('eth_getTransactionByHash', [h])) as {
              blockNumber: string | null;
            } | null;
            return tx !== null && tx.blockNumber === null;
          }),
        )
      ).some(Boolean);
    const redeemed = await eventually(async () => {
      if (await pooled()) await fx.mine(1);
      const row = await second!.tickets.findByHash(hashOf(ticket));
      return row?.status === WinningTicketStatus.REDEEMED ? row : undefined;
    }, "A's tx broadcast again and mined");
    await expectPaidByAsTx(ticket, sent, redeemed);
  });

  it("does not displace another tx pending at A's nonce (an operator's cancel) with A's stored tx", async () => {
    const sender = await fx.newSender(ETH);
    const ticket = await fx.ticket(sender, ETH / 10n);
    await sendAndStop(ticket);
    // While no Redeemer runs: the node forgets A's tx, and the operator sends a cancel at its nonce
    // at lower fees than A's stored tx (which would replace it in the pool if sent again).
    const [sent] = await txsOf(ticket);
    for (const hash of sent.hashes) await fx.provider.send('anvil_dropTransaction', [hash]);
    const cancel = await sendAtAsNonce(sent, 3n, 4n);
    expect(await fx.provider.getTransactionCount(fx.recipient.address, 'pending')).toBe(
      Number(sent.nonce) + 1,
    );

    // B takes over and looks at A's tx: at boot, from the ticket's job, and here.
    const settlement = (await startB()).app.get(SettlementService);
    for (let i = 0; i < 3; i++) await settlement.settle(sent.id);
    const inPool = async (hash: string) =>
      (await fx.provider.send('eth_getTransactionByHash', [hash])) as { blockNumber: string | null } | null;
    expect(await inPool(cancel.hash)).toMatchObject({ blockNumber: null });
    for (const hash of sent.hashes) expect(await inPool(hash)).toBeNull();

    // The cancel is mined: A's tx can never be; its ticket goes back in line and B redeems it.
    await fx.provider.send('evm_setAutomine', [true]);
    await fx.mine(1);
    expect((await cancel.wait())?.status).toBe(1);
    await expectRedeemedByB(ticket);
  });

  it("leaves A's tx alone while a Redeemer holds A's signer, and settles it once none does", async () => {
    const sender = await fx.newSender(ETH);
    const ticket = await fx.ticket(sender, ETH / 10n);
    // A stops; its signer is held again at once (A back with other recipients, or a replica that
    // took over): B finds A's tx with a live holder, whose own settlement decides it.
    await sendAndStop(ticket);
    const holderDb = await createDataSource(inject('databaseUrl')).initialize();
    const holder = new SignerLease(holderDb);
    try {
      expect(
        await holder.acquire(
          fx.recipient.address,
          () => false,
          () => undefined,
        ),
      ).toBe(true);
      const b = await startB();
      const [sent] = await txsOf(ticket);
      expect({ signer: sent.signer, status: sent.status }).toEqual({
        signer: fx.recipient.address.toLowerCase(),
        status: 'pending',
      });

      // Mined: B would record it at its next look (its recovery at boot, the ticket's job, or here).
      await fx.provider.send('evm_setAutomine', [true]);
      await fx.mine(1);
      await b.app.get(SettlementService).settle(sent.id);
      // A few of the ticket's follow-ups (a poll interval apart) too.
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await txsOf(ticket)).toEqual([sent]);
      expect((await b.tickets.findByHash(hashOf(ticket)))!.status).toBe(WinningTicketStatus.SUBMITTED);
      expect(await paymentsOf(ticket)).toEqual([]);

      // Nobody holds A any more: B settles A's tx, as after a plain handover.
      await holder.release();
      await b.app.get(SettlementService).settle(sent.id);
      const redeemed = await until(ticket, WinningTicketStatus.REDEEMED);
      const [tx] = await txsOf(ticket);
      expect(tx).toMatchObject({ id: sent.id, status: 'mined' });
      expect(redeemed.txHash).toBe(tx.mined_hash);
      expect(await paymentsOf(ticket)).toEqual([
        { chain_tx_id: sent.id, amount_paid: (ETH / 10n).toString() },
      ]);
    } finally {
      await holder.release();
      await holderDb.destroy();
    }
  });
});
