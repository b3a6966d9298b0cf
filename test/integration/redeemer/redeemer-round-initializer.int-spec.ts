import type { INestApplication } from '@nestjs/common';
import { parseEther } from 'ethers';
import { type DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type WinningTicketRepository, WinningTicketStatus } from '#app/database';
import type { WinningTicketIntake } from '#app/queue';
import { INITIALIZE_ROUND_PURPOSE } from '../../../apps/redeemer/src/rounds/round-initializer.js';
import { startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';
import { startInProcessRedeemer, ticketRows } from './in-process-redeemer.js';

const CENTI = parseEther('1') / 100n;

/**
 * Redemptions need the current round initialized; where nobody initializes rounds, winners wait
 * until their rounds pass and expire. With REDEEMER_INITIALIZE_ROUND the Redeemer does it
 * (go-livepeer -initializeRound). anvil mines only on transactions: the chain stays in an
 * uninitialized round until someone sends one.
 */
describe('Redeemer initializing rounds (REDEEMER_INITIALIZE_ROUND)', () => {
  let fx: RedeemerChainFixture;
  let app: INestApplication;
  let intake: WinningTicketIntake;
  let tickets: WinningTicketRepository;
  let ds: DataSource;

  beforeAll(async () => {
    fx = await startRedeemerChain();
    ({ app, intake, tickets, ds } = await startInProcessRedeemer(
      fx,
      `${inject('redisPrefix')}redeemer-round-initializer:`,
      { REDEEMER_INITIALIZE_ROUND: 'true', REDEEMER_INITIALIZE_ROUND_MAX_DELAY_SECONDS: '0' },
    ));
  });

  afterAll(async () => {
    await app?.close();
    await fx?.stop();
  });

  const { until } = ticketRows(() => tickets);
  const initializerTxs = () =>
    ds.query<{ status: string }[]>(`SELECT status FROM chain_tx WHERE purpose = $1 ORDER BY id`, [
      INITIALIZE_ROUND_PURPOSE,
    ]);

  it('initializes a round nobody did, once, and a winner waiting for it is redeemed', async () => {
    const sender = await fx.newSender(parseEther('1'));
    // Made in the current round, then the chain moves into the next one, which nobody initializes.
    const t = await fx.ticket(sender, CENTI);
    const blockTag = Number(await fx.blockNumber());
    const [start, length, before] = await Promise.all([
      fx.rounds.currentRoundStartBlock({ blockTag }),
      fx.rounds.roundLength({ blockTag }),
      fx.rounds.currentRound({ blockTag }),
    ]);
    await fx.mine(Number(start + length - BigInt(blockTag)));
    expect(await fx.rounds.currentRound()).toBe(before + 1n);

    await intake.accept(t);
    await until(t, WinningTicketStatus.REDEEMED);
    expect(await fx.rounds.currentRoundInitialized()).toBe(true);
    expect(await fx.rounds.lastInitializedRound()).toBe(before + 1n);
    expect(await initializerTxs()).toEqual([{ status: 'mined' }]);
  });

  it('leaves an initialized round alone', async () => {
    const sent = (await initializerTxs()).length;
    const sender = await fx.newSender(parseEther('1'));
    const t = await fx.ticket(sender, CENTI);
    await intake.accept(t);
    await until(t, WinningTicketStatus.REDEEMED);
    // Heads of an initialized round went by (each redemption mines a block): no tx sent for them.
    expect(await initializerTxs()).toHaveLength(sent);
  });
});
