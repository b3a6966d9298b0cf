import type { INestApplication } from '@nestjs/common';
import { parseEther } from 'ethers';
import { type DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ChainFacts } from '#app/chain';
import { type WinningTicketRepository, WinningTicketStatus } from '#app/database';
import { RedemptionQueue, type WinningTicketIntake } from '#app/queue';
import { lastValidCreationRound, type SignedTicket } from '#app/ticket';
import { eventually, hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';
import { RedemptionService } from '../../../apps/redeemer/src/redemption/redemption.service.js';
import { startInProcessRedeemer, ticketRows } from './in-process-redeemer.js';

const ETH = parseEther('1');
const CENTI = ETH / 100n;
/** L1 blocks held before a round's end (the default; the fixture's env says 1 for automine). */
const MARGIN = 3n;

/**
 * A redemption tx mined in the first block(s) of a round nobody initialized yet reverts ("current
 * round is not initialized") and its gas is lost. The Redeemer holds its txs back near the round's
 * end, in the gate and again right before a batch is sent, until the next round is initialized.
 * anvil mines only on transactions here: a held ticket stays held until the test moves the chain.
 */
describe('Redeemer at the end of a round', () => {
  let fx: RedeemerChainFixture;
  let app: INestApplication;
  let url: string;
  let intake: WinningTicketIntake;
  let tickets: WinningTicketRepository;
  let ds: DataSource;

  beforeAll(async () => {
    fx = await startRedeemerChain();
    ({ app, url, intake, tickets, ds } = await startInProcessRedeemer(
      fx,
      `${inject('redisPrefix')}redeemer-round-end:`,
      {
        REDEEMER_ROUND_END_MARGIN_BLOCKS: String(MARGIN),
        // Long enough to move the chain while a batch gathers.
        REDEEMER_BATCH_WINDOW_MS: '2500',
        REDEEMER_RETRY_BASE_MS: '200',
        REDEEMER_RETRY_MAX_MS: '2000',
      },
    ));
  });

  afterAll(async () => {
    await app?.close();
    await fx?.stop();
  });

  const { row, until } = ticketRows(() => tickets);

  const reason = (t: SignedTicket, code: string) =>
    eventually(async () => ((await row(t)).statusReason === code ? true : undefined), `${code} wait`);

  /** The last block of the current round, at the latest block. */
  const lastBlockOfRound = async () => {
    const blockTag = Number(await fx.blockNumber());
    const [start, length] = await Promise.all([
      fx.rounds.currentRoundStartBlock({ blockTag }),
      fx.rounds.roundLength({ blockTag }),
    ]);
    return start + length - 1n;
  };

  const mineTo = async (block: bigint) => fx.mine(Number(block - (await fx.blockNumber())));

  const chainTxsFor = (t: SignedTicket) =>
    ds.query<{ status: string }[]>(`SELECT status FROM chain_tx WHERE $1 = ANY(refs)`, [hashOf(t)]);

  /** Redemption txs of this file's signer that reverted. */
  const reverted = async () =>
    Number(
      (
        await ds.query<{ n: string }[]>(
          `SELECT count(*) AS n FROM chain_tx WHERE signer = $1 AND status = 'reverted'`,
          [fx.recipient.address.toLowerCase()],
        )
      )[0].n,
    );

  /** Waits until the Redeemer's head is the chain's latest block. */
  const redeemerAtHead = async () => {
    const now = await fx.blockNumber();
    await eventually(
      async () => ((await app.get(ChainFacts).refresh()).block >= now ? true : undefined),
      'the Redeemer at the head',
    );
  };

  /**
   * Two rounds on (an older initialized round to create tickets in), a funded sender, and the
   * creation round of tickets in their last valid round now (validity − 1 rounds ago).
   */
  const lastRoundSetup = async () => {
    await fx.nextRound();
    await fx.nextRound();
    const sender = await fx.newSender(ETH);
    const [round, validity] = await Promise.all([fx.rounds.currentRound(), fx.broker.ticketValidityPeriod()]);
    return { sender, lastRoundCreated: lastValidCreationRound(validity, round)! };
  };

  const holds = async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(/^redeemer_round_end_holds_total(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? 0);
  };

  it('holds a ticket due in the last block of a round, and redeems it once the next round is initialized', async () => {
    await fx.nextRound();
    const sender = await fx.newSender(ETH);
    const last = await lastBlockOfRound();
    // Due (params expired) only from the round's last block on: a tx then is mined in the next round.
    const t = await fx.ticket(sender, CENTI, { expirationBlock: last });
    await intake.accept(t);
    // Its job sleeps until the params are due to expire (delayed at the intake, or by a run that found them unexpired).
    const job = () => app.get(RedemptionQueue).boardSource().getJob(hashOf(t));
    await eventually(
      async () => ((await (await job())?.getState()) === 'delayed' ? true : undefined),
      'params wait',
    );

    await mineTo(last);
    await reason(t, 'ROUND_ENDING');
    expect((await row(t)).status).toBe(WinningTicketStatus.QUEUED);
    // Nothing mines here on its own: it stays held, still without a tx.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await row(t)).statusReason).toBe('ROUND_ENDING');
    expect(await chainTxsFor(t)).toHaveLength(0);

    await fx.nextRound();
    const redeemed = await until(t, WinningTicketStatus.REDEEMED);
    expect(redeemed.creationRound).toBeLessThan(await fx.rounds.currentRound());
    expect(await chainTxsFor(t)).toEqual([{ status: 'mined' }]);
    expect(await reverted()).toBe(0);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('redeemer_ticket_waits_total{code="ROUND_ENDING"');
  });

  it('does not send a batch whose window ran into the end of the round: its tickets wait, then redeem', async () => {
    await fx.nextRound();
    const sender = await fx.newSender(ETH);
    const batch = [await fx.ticket(sender, CENTI), await fx.ticket(sender, 2n * CENTI)];
    const heldBefore = await holds();
    // The Redeemer's head must be today's, or its gate would send the tickets back to wait for
    // their params (and they would meet the round's end in the gate, not in the batch).
    await redeemerAtHead();
    for (const t of batch) await intake.accept(t);
    // Past the gate (well within the round), gathered in the batch window: their jobs are active.
    const jobs = app.get(RedemptionQueue).boardSource();
    for (const t of batch) {
      await eventually(
        async () => ((await (await jobs.getJob(hashOf(t)))?.getState()) === 'active' ? true : undefined),
        'job active in the batch window',
      );
    }
    await new Promise((r) => setTimeout(r, 200));
    await mineTo((await lastBlockOfRound()) - MARGIN + 1n);

    for (const t of batch) await reason(t, 'ROUND_ENDING');
    expect(await holds()).toBe(heldBefore + 1);
    for (const t of batch) {
      expect((await row(t)).status).toBe(WinningTicketStatus.QUEUED);
      expect(await chainTxsFor(t)).toHaveLength(0);
    }

    await fx.nextRound();
    for (const t of batch) {
      await until(t, WinningTicketStatus.REDEEMED);
      expect(await chainTxsFor(t)).toEqual([{ status: 'mined' }]);
    }
    expect(await reverted()).toBe(0);
  });

  it('sends a ticket in its last valid round at the round end, where waiting would expire it; the others wait', async () => {
    const { sender, lastRoundCreated } = await lastRoundSetup();
    const last = await lastBlockOfRound();
    // Both due inside the margin, where a tx sent still has a block or two of the round to be mined
    // in. `young` has rounds left; `old` was created validity − 1 rounds ago: this is its last one.
    const due = last - MARGIN + 1n;
    const young = await fx.ticket(sender, CENTI, { expirationBlock: due });
    const old = await fx.ticket(sender, 2n * CENTI, {
      expirationBlock: due + 1n,
      creationRound: lastRoundCreated,
    });
    await redeemerAtHead();
    for (const t of [young, old]) await intake.accept(t);

    await mineTo(due);
    await reason(young, 'ROUND_ENDING');
    // Young's wait holds the worker (no job taken until the next round) only once no ticket in its
    // last valid round waits: old's params expire next block, and its job must run then.
    const youngWait = () => app.get(RedemptionService).process(hashOf(young));
    expect(await youngWait()).toMatchObject({ kind: 'later', code: 'ROUND_ENDING', holdAll: false });
    await mineTo(due + 1n);
    const redeemed = await until(old, WinningTicketStatus.REDEEMED);
    expect(redeemed.creationRound).toBe(lastRoundCreated);
    expect(await chainTxsFor(old)).toEqual([{ status: 'mined' }]);
    expect((await row(young)).status).toBe(WinningTicketStatus.QUEUED);
    expect(await chainTxsFor(young)).toHaveLength(0);
    expect(await youngWait()).toMatchObject({ kind: 'later', code: 'ROUND_ENDING', holdAll: true });

    await fx.nextRound();
    await until(young, WinningTicketStatus.REDEEMED);
    expect(await reverted()).toBe(0);
  });

  it('sends the last-round ticket of a batch whose window ran into the end of the round, and puts the others back', async () => {
    const { sender, lastRoundCreated } = await lastRoundSetup();
    const young = await fx.ticket(sender, CENTI);
    const old = await fx.ticket(sender, 2n * CENTI, { creationRound: lastRoundCreated });
    const heldBefore = await holds();
    await redeemerAtHead();
    for (const t of [young, old]) await intake.accept(t);
    // Both past the gate (well within the round), gathered in one batch window: their jobs are active.
    const jobs = app.get(RedemptionQueue).boardSource();
    for (const t of [young, old]) {
      await eventually(
        async () => ((await (await jobs.getJob(hashOf(t)))?.getState()) === 'active' ? true : undefined),
        'job active in the batch window',
      );
    }
    await new Promise((r) => setTimeout(r, 200));
    await mineTo((await lastBlockOfRound()) - MARGIN + 1n);

    // Claimed together; at the send, the round's end is near: old goes (mined within the round),
    // young is put back until the next round.
    await until(old, WinningTicketStatus.REDEEMED);
    expect(await chainTxsFor(old)).toEqual([{ status: 'mined' }]);
    await reason(young, 'ROUND_ENDING');
    expect((await row(young)).status).toBe(WinningTicketStatus.QUEUED);
    expect(await chainTxsFor(young)).toHaveLength(0);
    expect(await holds()).toBe(heldBefore + 1);

    await fx.nextRound();
    await until(young, WinningTicketStatus.REDEEMED);
    expect(await reverted()).toBe(0);
  });
});
