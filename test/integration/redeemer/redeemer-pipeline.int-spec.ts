import type { INestApplication } from '@nestjs/common';
import { parseEther } from 'ethers';
import { type DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type WinningTicketRepository, WinningTicketStatus } from '#app/database';
import { type WinningTicketIntake } from '#app/queue';
import type { SignedTicket } from '#app/ticket';
import { eventually, hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';
import { startInProcessRedeemer, ticketRows } from './in-process-redeemer.js';

const ETH = parseEther('1');
const CENTI = ETH / 100n;

/**
 * The Redeemer keeps several txs of its one signer in flight (one ticket per tx here, so each
 * ticket is its own tx) and holds a sender's tickets back only when its funds cannot cover them
 * on top of what is already in flight. Blocks are mined by hand, so "in flight" is observable.
 */
describe('Redeemer: txs in flight', () => {
  let fx: RedeemerChainFixture;
  let app: INestApplication;
  let intake: WinningTicketIntake;
  let tickets: WinningTicketRepository;
  let ds: DataSource;

  beforeAll(async () => {
    fx = await startRedeemerChain();
    ({ app, intake, tickets, ds } = await startInProcessRedeemer(
      fx,
      `${inject('redisPrefix')}redeemer-pipeline:`,
      {
        REDEEMER_BATCH_MAX_SIZE: '1',
        REDEEMER_BATCH_WINDOW_MS: '50',
        REDEEMER_RETRY_BASE_MS: '200',
        REDEEMER_RETRY_MAX_MS: '2000',
        REDEEMER_RECONCILE_INTERVAL_MS: '500',
      },
    ));
  });

  afterEach(async () => {
    await fx.provider.send('evm_setAutomine', [true]);
  });

  afterAll(async () => {
    await app?.close();
    await fx?.stop();
  });

  const { row, until } = ticketRows(() => tickets);
  const txCount = async (tag: 'latest' | 'pending') =>
    Number(await fx.provider.send('eth_getTransactionCount', [fx.recipient.address, tag]));
  const txsOf = (batch: readonly SignedTicket[]) =>
    ds.query<{ nonce: string; status: string; refs: string[]; sent_block: string; block_number: string }[]>(
      `SELECT nonce, status, refs, sent_block, block_number FROM chain_tx
        WHERE refs && $1::text[] ORDER BY nonce`,
      [batch.map(hashOf)],
    );

  it('sends one tx per ticket without waiting for the previous receipt; consecutive nonces, all mined once', async () => {
    const sender = await fx.newSender(ETH);
    const batch = [
      await fx.ticket(sender, CENTI),
      await fx.ticket(sender, 2n * CENTI),
      await fx.ticket(sender, 3n * CENTI),
      await fx.ticket(sender, 4n * CENTI),
    ];
    const mined = await txCount('latest');
    const fees = await fx.fees();
    await fx.provider.send('evm_setAutomine', [false]);
    for (const t of batch) await intake.accept(t);

    // All four in the mempool together: the Redeemer did not wait for any receipt.
    await eventually(
      async () => ((await txCount('pending')) === mined + 4 ? true : undefined),
      'four txs in flight',
    );
    for (const t of batch) expect((await row(t)).status).toBe(WinningTicketStatus.SUBMITTED);
    const pending = await txsOf(batch);
    expect(pending.map((tx) => Number(tx.nonce))).toEqual([mined, mined + 1, mined + 2, mined + 3]);
    expect(pending.every((tx) => tx.status === 'pending' && tx.refs.length === 1)).toBe(true);

    await fx.provider.send('evm_mine', []);
    await fx.provider.send('evm_setAutomine', [true]);
    for (const t of batch) await until(t, WinningTicketStatus.REDEEMED);
    const final = await txsOf(batch);
    expect(final.map((tx) => tx.status)).toEqual(['mined', 'mined', 'mined', 'mined']);
    expect(new Set(final.map((tx) => tx.block_number)).size).toBe(1);
    const redeemed = await fx.redeemedHashes();
    for (const t of batch) expect(redeemed.filter((h) => h === hashOf(t))).toHaveLength(1);
    expect((await fx.fees()) - fees).toBe(10n * CENTI);
  });

  it("holds a sender's next ticket back while its funds are committed to a tx in flight", async () => {
    // The deposit covers one ticket, not two: the second may only go once the first is settled.
    const sender = await fx.newSender((3n * CENTI) / 2n);
    const other = await fx.newSender(ETH);
    const first = await fx.ticket(sender, CENTI);
    const second = await fx.ticket(sender, CENTI);
    const unrelated = await fx.ticket(other, CENTI);
    const mined = await txCount('latest');
    await fx.provider.send('evm_setAutomine', [false]);
    await intake.accept(first);
    await eventually(async () => ((await txCount('pending')) === mined + 1 ? true : undefined), 'first tx');
    await intake.accept(second);
    await intake.accept(unrelated);

    // Another sender's ticket goes out beside the first; the second ticket waits behind it.
    await eventually(async () => ((await txCount('pending')) === mined + 2 ? true : undefined), 'second tx');
    await eventually(
      async () => ((await row(second)).statusReason === 'SENDER_BUSY' ? true : undefined),
      'the second ticket to wait for the first',
    );
    expect((await row(unrelated)).status).toBe(WinningTicketStatus.SUBMITTED);
    expect(await txsOf([second])).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await txCount('pending')).toBe(mined + 2);
    expect(await txsOf([second])).toHaveLength(0);

    // Once the first is settled the sender's funds are short of the second: it waits for funds.
    await fx.provider.send('evm_mine', []);
    await fx.provider.send('evm_setAutomine', [true]);
    await until(first, WinningTicketStatus.REDEEMED);
    await until(unrelated, WinningTicketStatus.REDEEMED);
    await eventually(
      async () => ((await row(second)).statusReason === 'INSUFFICIENT_FUNDS' ? true : undefined),
      'the second ticket to wait for funds',
    );
    expect(await txsOf([second])).toHaveLength(0);

    await fx.fundDeposit(sender, ETH);
    await until(second, WinningTicketStatus.REDEEMED);
    const [firstTx] = await txsOf([first]);
    const [secondTx] = await txsOf([second]);
    expect(BigInt(secondTx.sent_block)).toBeGreaterThanOrEqual(BigInt(firstTx.block_number));
    expect((await row(first)).statusReason).toBeNull();
    expect((await row(second)).statusReason).toBeNull();
  });
});
