import { parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ChainErrorCode, ChainTxError, TxManager } from '#app/chain';
import { WinningTicketStatus } from '#app/database';
import { startInProcessRedeemer, ticketRows, type InProcessRedeemer } from './in-process-redeemer.js';
import { eventually, hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';

const ETH = parseEther('1');

/**
 * A job lets go of its worker slot once its ticket is claimed for a tx: the tx's turn in the
 * signer's send queue is not the worker's, nor is the send queue held through a broadcast. One worker slot (REDEEMER_CONCURRENCY 1) and one ticket
 * a batch make each ticket's job run alone.
 */
describe('Jobs of claimed tickets', () => {
  let fx: RedeemerChainFixture;
  let redeemer: InProcessRedeemer | undefined;
  const opens: (() => void)[] = [];

  beforeAll(async () => {
    fx = await startRedeemerChain();
    redeemer = await startInProcessRedeemer(fx, `${inject('redisPrefix')}redeemer-claimed-jobs:`, {
      REDEEMER_CONCURRENCY: '1',
      REDEEMER_BATCH_MAX_SIZE: '1',
      REDEEMER_RETRY_BASE_MS: '200',
    });
  });

  afterAll(async () => {
    for (const open of opens) open();
    await redeemer?.app.close();
    await fx?.stop();
  });

  it("claims and stores the next ticket's tx while the first one's waits to be broadcast, and broadcasts them in nonce order", async () => {
    const { row, until } = ticketRows(() => redeemer!.tickets);
    const sender = await fx.newSender(ETH);
    const first = await fx.ticket(sender, ETH / 10n);
    const second = await fx.ticket(sender, ETH / 10n);

    // The first tx is held before its broadcast (its tickets are marked submitted first) until the
    // test lets it go.
    let reached!: () => void;
    const atSend = new Promise<void>((r) => (reached = r));
    const opened = new Promise<void>((r) => opens.push(r));
    const repo = redeemer!.tickets;
    const markAllSubmitted = repo.markAllSubmitted.bind(repo);
    repo.markAllSubmitted = async (hashes, txHash) => {
      if (hashes.includes(hashOf(first))) {
        reached();
        await opened;
      }
      return markAllSubmitted(hashes, txHash);
    };

    await redeemer!.intake.accept(first);
    await atSend;
    await redeemer!.intake.accept(second);
    // With the slot held through the send, the second job could not run until the first tx went;
    // with the send queue held through the broadcast, its tx could not be stored either.
    const stored = await until(second, WinningTicketStatus.SUBMITTED);
    expect((await row(first)).status).toBe(WinningTicketStatus.SUBMITTING);
    // Its broadcast waits for the first's: the node must not see a nonce above a gap.
    expect(await fx.provider.getTransaction(stored.txHash!)).toBeNull();
    opens.forEach((open) => open());

    await until(first, WinningTicketStatus.REDEEMED);
    await until(second, WinningTicketStatus.REDEEMED);
    expect((await fx.redeemedHashes()).sort()).toEqual([hashOf(first), hashOf(second)].sort());
  });

  it('puts the tickets of a tx that could not be sent back in line, counts the attempt and wakes their job', async () => {
    const { row } = ticketRows(() => redeemer!.tickets);
    const sender = await fx.newSender(ETH);
    const t = await fx.ticket(sender, ETH / 10n);

    // Its first send fails before anything is stored (the node refused the fee reads, say).
    const txs = redeemer!.app.get(TxManager);
    const send = txs.send.bind(txs);
    let failed = 0;
    txs.send = async (intent, hooks) => {
      if (intent.refs?.includes(hashOf(t)) && failed++ === 0) {
        throw new ChainTxError(ChainErrorCode.CHAIN_UNAVAILABLE, 'test: the node does not answer');
      }
      return send(intent, hooks);
    };

    await redeemer!.intake.accept(t);
    // Woken after its back-off (200 ms), not after the backstop sleep of a job whose ticket is in
    // a tx (30 s): the bound below sits between the two.
    await eventually(
      async () => ((await row(t)).status === WinningTicketStatus.REDEEMED ? true : undefined),
      'the ticket to be redeemed after its failed send',
      20_000,
    );
    expect(failed).toBe(2);
    const [attempt] = await redeemer!.ds.query<{ attempts: number; last_error: string }[]>(
      `SELECT attempts, last_error FROM redemption WHERE ticket_hash = $1`,
      [hashOf(t)],
    );
    expect(attempt.attempts).toBe(1);
    expect(attempt.last_error).toContain('the node does not answer');
    expect(await fx.redeemedHashes()).toContain(hashOf(t));
  });
});
