import type { INestApplication } from '@nestjs/common';
import { Wallet, parseEther, toQuantity } from 'ethers';
import { type DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BlockPace, ChainFacts, roundsManagerAt } from '#app/chain';
import { type WinningTicketRepository, WinningTicketStatus } from '#app/database';
import type { WinningTicketIntake } from '#app/queue';
import { ANVIL_PRIVATE_KEYS } from '#app/testing';
import type { SignedTicket } from '#app/ticket';
import { RoundEndMargin } from '../../../apps/redeemer/src/redemption/round-end-margin.js';
import { eventually, hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';
import { startInProcessRedeemer, ticketRows } from './in-process-redeemer.js';

const ETH = parseEther('1');
const CENTI = ETH / 100n;

/** What the tests of this file read from a Redeemer and its chain. */
function probes(fx: () => RedeemerChainFixture, ds: () => DataSource, url: () => string) {
  return {
    /** The last block of the current round, at the latest block. */
    lastBlockOfRound: async () => {
      const blockTag = Number(await fx().blockNumber());
      const [start, length] = await Promise.all([
        fx().rounds.currentRoundStartBlock({ blockTag }),
        fx().rounds.roundLength({ blockTag }),
      ]);
      return start + length - 1n;
    },
    mineTo: async (block: bigint) => fx().mine(Number(block - (await fx().blockNumber()))),
    chainTxsFor: (t: SignedTicket) =>
      ds().query<{ id: string; status: string; mined_hash: string | null }[]>(
        `SELECT id::text AS id, status, mined_hash FROM chain_tx WHERE $1 = ANY(refs)`,
        [hashOf(t)],
      ),
    /** Redemption txs of the fixture's signer that reverted. */
    reverted: async () =>
      Number(
        (
          await ds().query<{ n: string }[]>(
            `SELECT count(*) AS n FROM chain_tx WHERE signer = $1 AND status = 'reverted'`,
            [fx().recipient.address.toLowerCase()],
          )
        )[0].n,
      ),
    /** A series of the Redeemer's /metrics, summed over its labels matching `labels` (0 when absent). */
    metric: async (name: string, labels = '') => {
      const text = await (await fetch(`${url()}/metrics`)).text();
      let sum = 0;
      for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
        if ((m[1] ?? '').includes(labels)) sum += Number(m[2]);
      }
      return sum;
    },
  };
}

/**
 * Under load a redemption tx may be mined several L1 blocks after the head it was judged at; one
 * judged within that many blocks of the round's end is mined in the next round and reverts. The
 * Redeemer learns the margin from its own txs: here one tx is kept out of blocks (a block gas
 * limit below its own) for longer than the configured margin of 1. What it learned is kept in
 * Postgres, so a restarted Redeemer starts with it.
 */
describe('Redeemer round-end margin, learned from its own txs', () => {
  let fx: RedeemerChainFixture;
  let app: INestApplication;
  let url: string;
  let intake: WinningTicketIntake;
  let tickets: WinningTicketRepository;
  let ds: DataSource;
  /** Blocks the slow tx is kept out of. */
  const KEPT_OUT = 4n;
  /** The margin the first test taught the Redeemer. */
  let learned = 0;
  /** The slow tx's chain_tx id. */
  let slowTxId = '';

  beforeAll(async () => {
    fx = await startRedeemerChain();
    ({ app, url, intake, tickets, ds } = await startInProcessRedeemer(
      fx,
      `${inject('redisPrefix')}redeemer-round-margin:`,
      {},
    ));
  });

  afterAll(async () => {
    await app?.close();
    await fx?.stop();
  });

  const { row, until } = ticketRows(() => tickets);
  const p = probes(
    () => fx,
    () => ds,
    () => url,
  );

  it('raises the margin for the next send after a tx mined later than the configured margin', async () => {
    await fx.nextRound();
    const sender = await fx.newSender(ETH);
    const margin = app.get(RoundEndMargin);
    expect(margin.blocks()).toBe(1);

    // The Redeemer judges the tx at this head: nothing is mined from here until the test says so.
    await fx.provider.send('evm_setAutomine', [false]);
    const judged = await fx.blockNumber();
    await eventually(
      async () => ((await app.get(ChainFacts).refresh()).block >= judged ? true : undefined),
      'the Redeemer at the head',
    );
    const slow = await fx.ticket(sender, CENTI);
    await intake.accept(slow);
    await eventually(
      async () => ((await p.chainTxsFor(slow)).length === 1 ? true : undefined),
      'its tx sent',
    );

    const gasLimit = (await fx.provider.getBlock('latest'))!.gasLimit;
    await fx.provider.send('anvil_setBlockGasLimit', [toQuantity(30_000n)]);
    await fx.mine(Number(KEPT_OUT));
    await fx.provider.send('anvil_setBlockGasLimit', [toQuantity(gasLimit)]);
    await fx.provider.send('evm_setAutomine', [true]);
    await fx.mine(1);
    await until(slow, WinningTicketStatus.REDEEMED);
    const [tx] = await p.chainTxsFor(slow);
    slowTxId = tx.id;
    const mined = BigInt((await fx.provider.getTransactionReceipt(tx.mined_hash!))!.blockNumber);
    expect(mined).toBe(judged + KEPT_OUT + 1n);

    learned = Number(mined - judged);
    await eventually(
      () => Promise.resolve(margin.blocks() === learned ? true : undefined),
      'the margin learned',
    );
    expect(await p.metric('redeemer_round_end_margin_blocks')).toBe(learned);

    // Two blocks before the round's end there is room for the configured margin, not the learned one.
    await p.mineTo((await p.lastBlockOfRound()) - 2n);
    const next = await fx.ticket(sender, CENTI);
    await intake.accept(next);
    await eventually(
      async () => ((await row(next)).statusReason === 'ROUND_ENDING' ? true : undefined),
      'ROUND_ENDING wait',
    );
    expect(await p.chainTxsFor(next)).toHaveLength(0);

    await fx.nextRound();
    await until(next, WinningTicketStatus.REDEEMED);
    expect(await p.reverted()).toBe(0);
  });

  it('starts again with the learned margin after a restart, not the configured one', async () => {
    expect(learned).toBeGreaterThan(1);
    // The slow tx's mined L1 block is stored once read: what the next Redeemer learns from.
    const stored = () =>
      ds.query<{ judged: string; mined: string }[]>(
        `SELECT judged_l1_block::text AS judged, mined_l1_block::text AS mined FROM chain_tx WHERE id = $1`,
        [slowTxId],
      );
    await eventually(async () => ((await stored())[0].mined !== null ? true : undefined), 'mined L1 block');
    const [row0] = await stored();
    expect(Number(BigInt(row0.mined) - BigInt(row0.judged))).toBe(learned);

    // The last settlement's writes done, so the shutdown cuts none of them short.
    const unrecorded = async () =>
      Number(
        (
          await ds.query<{ n: string }[]>(
            `SELECT count(*) AS n FROM winning_ticket w LEFT JOIN redemption r USING (ticket_hash)
              WHERE w.recipient = $1 AND w.status = 'redeemed' AND r.redeemed_at IS NULL`,
            [fx.recipient.address.toLowerCase()],
          )
        )[0].n,
      );
    await eventually(async () => ((await unrecorded()) === 0 ? true : undefined), 'settlements recorded');
    await app.close();
    ({ app, url, intake, tickets, ds } = await startInProcessRedeemer(
      fx,
      `${inject('redisPrefix')}redeemer-round-margin:`,
      {},
    ));
    // Active, no tx sent or mined since the restart: the margin comes from Postgres alone.
    expect(app.get(RoundEndMargin).blocks()).toBe(learned);
    expect(await p.metric('redeemer_round_end_margin_blocks')).toBe(learned);

    // Two blocks before the round's end the first send after the restart is held, as before it.
    const sender = await fx.newSender(ETH);
    await p.mineTo((await p.lastBlockOfRound()) - 2n);
    const held = await fx.ticket(sender, CENTI);
    await intake.accept(held);
    await eventually(
      async () => ((await row(held)).statusReason === 'ROUND_ENDING' ? true : undefined),
      'ROUND_ENDING wait',
    );
    expect(await p.chainTxsFor(held)).toHaveLength(0);

    await fx.nextRound();
    await until(held, WinningTicketStatus.REDEEMED);
    expect(await p.reverted()).toBe(0);
  });
});

/**
 * Initializes each round as soon as it starts, as a keeper does on a live network (anyone may).
 * Returns a function that stops it.
 */
function startKeeper(fx: RedeemerChainFixture): () => void {
  const keeper = roundsManagerAt(
    fx.protocol.addresses.roundsManager,
    new Wallet(ANVIL_PRIVATE_KEYS[5], fx.provider),
  );
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      if (!(await fx.rounds.currentRoundInitialized())) await (await keeper.initializeRound()).wait();
    })()
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, 200);
  return () => clearInterval(timer);
}

/**
 * A winner due in the last blocks of a round waits for the next one: its job sleeps until that
 * round can have been initialized instead of looking again every poll interval, so it waits
 * (and its row is noted) once. On a chain with 1 s blocks and a keeper, as the Redeemer's block
 * pace needs a steady chain.
 */
describe('Redeemer waiting for the next round', () => {
  let fx: RedeemerChainFixture;
  let app: INestApplication;
  let url: string;
  let intake: WinningTicketIntake;
  let tickets: WinningTicketRepository;
  let ds: DataSource;
  let stopKeeper: (() => void) | undefined;
  const p = probes(
    () => fx,
    () => ds,
    () => url,
  );

  beforeAll(async () => {
    fx = await startRedeemerChain({ blockTime: 1 });
    await fx.nextRound();
    // Near the round's end before the Redeemer starts: its block pace sees only the 1 s blocks.
    await p.mineTo((await p.lastBlockOfRound()) - 20n);
    stopKeeper = startKeeper(fx);
    ({ app, url, intake, tickets, ds } = await startInProcessRedeemer(
      fx,
      `${inject('redisPrefix')}redeemer-round-wait:`,
      { REDEEMER_ROUND_END_MARGIN_BLOCKS: '2' },
    ));
    await eventually(
      () => Promise.resolve(app.get(BlockPace).blockMs !== undefined ? true : undefined),
      'the block pace',
    );
  });

  afterAll(async () => {
    stopKeeper?.();
    await app?.close();
    await fx?.stop();
  });

  const { row, until } = ticketRows(() => tickets);

  it('holds a winner due at the round end once, noted once, and redeems it in the next round', async () => {
    const sender = await fx.newSender(ETH);
    const ending = () => p.metric('redeemer_ticket_waits_total', 'code="ROUND_ENDING"');
    const uninitialized = () => p.metric('redeemer_ticket_waits_total', 'code="ROUND_NOT_INITIALIZED"');
    const [ending0, uninitialized0] = [await ending(), await uninitialized()];
    const last = await p.lastBlockOfRound();
    // Its params expire one block before the round's last: inside the margin of 2.
    const t = await fx.ticket(sender, CENTI, { expirationBlock: last - 1n });
    await intake.accept(t);

    await eventually(
      async () => ((await row(t)).statusReason === 'ROUND_ENDING' ? true : undefined),
      'ROUND_ENDING wait',
    );
    const redeemed = await until(t, WinningTicketStatus.REDEEMED);
    expect(redeemed.creationRound).toBeLessThan(await fx.rounds.currentRound());
    expect(await p.chainTxsFor(t)).toEqual([expect.objectContaining({ status: 'mined' })]);
    expect(await p.reverted()).toBe(0);
    // One wait for the round's end, not one per poll interval (250 ms here) over its ≥ 3 blocks; at
    // most one more if the keeper's initializeRound is not mined yet when the ticket wakes.
    expect((await ending()) - ending0).toBe(1);
    expect((await uninitialized()) - uninitialized0).toBeLessThanOrEqual(1);
  });
});
