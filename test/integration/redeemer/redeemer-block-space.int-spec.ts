import { parseEther, toQuantity, type Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ChainFacts } from '#app/chain';
import { WinningTicketStatus } from '#app/database';
import type { SignedTicket } from '#app/ticket';
import { BlockSpace } from '../../../apps/redeemer/src/redemption/block-space.js';
import { RedemptionCode } from '../../../apps/redeemer/src/redemption/redemption-code.js';
import { RedemptionGas } from '../../../apps/redeemer/src/redemption/redemption-gas.js';
import { RedeemerLifecycle } from '../../../apps/redeemer/src/redeemer.lifecycle.js';
import { eventually, hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';
import { startInProcessRedeemer, ticketRows, type InProcessRedeemer } from './in-process-redeemer.js';

const ETH = parseEther('1');
const CENTI = ETH / 100n;
/** Block gas of this file's chain: a handful of single redemptions (~120k gas each, 240k limits). */
const BLOCK_GAS = 600_000n;
const TICKETS = 12;

/**
 * When winners come faster than blocks take them, the Redeemer sends no more than the next block
 * is expected to take (BlockSpace): the rest stay queued in Postgres, unclaimed, and go as blocks
 * are mined, instead of piling up in the node's mempool where they would cross the round's end.
 * Blocks are mined by hand here, and each is small.
 */
describe('Redeemer: block space', () => {
  let fx: RedeemerChainFixture;
  let redeemer: InProcessRedeemer;

  beforeAll(async () => {
    ({ fx, redeemer } = await onSmallBlocks('redeemer-block-space', {
      REDEEMER_BATCH_MAX_SIZE: '1',
      REDEEMER_BATCH_WINDOW_MS: '50',
    }));
  });
  afterAll(() => stop(fx, redeemer));

  const { row, until } = ticketRows(() => redeemer.tickets);
  const unminedLimits = () => unminedLimitsOf(fx, redeemer);

  /**
   * `count` tickets of `sender` accepted with mining stopped, until the Redeemer holds: the txs it
   * sent are expected to use what a block takes of them. Once a tx was mined it counts only the learned share of
   * each gas limit (a third to a half), so it sends more than a block's limits before it holds
   * (waiting only for the limits raced tickets accepted next against its last sends): `count` must
   * leave some queued.
   */
  async function fillABlock(sender: Wallet, count: number): Promise<SignedTicket[]> {
    const fill: SignedTicket[] = [];
    for (let i = 0; i < count; i++) fill.push(await fx.ticket(sender, CENTI));
    await fx.provider.send('evm_setAutomine', [false]);
    for (const t of fill) await redeemer.intake.accept(t);
    const space = redeemer.app.get(BlockSpace);
    // Held by BlockSpace's own rule (what a block is expected to take of its txs).
    await eventually(async () => {
      const waiting = (await unminedLimits()).map((gasLimit) => ({ gasLimit }));
      return space.hasRoom(BLOCK_GAS, waiting) ? undefined : true;
    }, "a block's expected gas waiting");
    return fill;
  }

  /** `held` accepted behind a full block: a second later they still wait, queued. */
  async function acceptBehind(held: readonly SignedTicket[]): Promise<void> {
    for (const t of held) await redeemer.intake.accept(t);
    await new Promise((r) => setTimeout(r, 1_000));
    for (const t of held) expect((await row(t)).status).toBe(WinningTicketStatus.QUEUED);
  }

  /** Mines block by block until `tickets` are redeemed on chain, then waits for their rows. */
  async function mineUntilRedeemed(tickets: readonly SignedTicket[]): Promise<void> {
    const onChain = async () =>
      (await fx.redeemedHashes()).filter((h) => tickets.some((t) => hashOf(t) === h)).length;
    for (let i = 0; i < 40 && (await onChain()) < tickets.length; i++) {
      await fx.provider.send('evm_mine', []);
      await new Promise((r) => setTimeout(r, 300));
    }
    await fx.provider.send('evm_setAutomine', [true]);
    for (const t of tickets) await until(t, WinningTicketStatus.REDEEMED);
  }

  it('holds what the next block cannot take, and sends it as blocks are mined: every ticket redeemed once, no tx reverted', () =>
    sendsAsBlocksMake(fx, redeemer));

  it('judges the cost of a group that waited for block space again at the gas price it goes at', async () => {
    const sender = await fx.newSender(ETH);
    const fill = await fillABlock(sender, TICKETS);

    // Worth redeeming at today's price, not at 1.8 times it: the cost bound (faceValue × 0.2,
    // the default ratio) at 1.3 times the gas the Redeemer expects a redemption of it to need.
    const facts = redeemer.app.get(ChainFacts);
    const { gasPrice, rounds } = facts.head();
    const gas = redeemer.app
      .get(RedemptionGas)
      .expected(fx.recipient.address.toLowerCase(), rounds.currentRound)!;
    expect(gas).toBeGreaterThan(0n);
    const held = [await fx.ticket(sender, (gas * gasPrice * 13n * 5n) / 10n)];
    held.push(await fx.ticket(sender, held[0].faceValue));
    await acceptBehind(held);

    // Full blocks raise the price. Here a block whose base fee is above what the waiting txs pay
    // does (so it mines none of them: the price is polled before room is made); the blocks after
    // it take them at a base fee of 0.8 times that price (the price is base fee + a 1 gwei tip).
    await fx.provider.send('anvil_setNextBlockBaseFeePerGas', [toQuantity(gasPrice * 2n)]);
    await fx.provider.send('evm_mine', []);
    await eventually(
      () => Promise.resolve(facts.head().gasPrice >= (gasPrice * 3n) / 2n ? true : undefined),
      'the higher price polled',
    );
    await fx.provider.send('anvil_setNextBlockBaseFeePerGas', [toQuantity((gasPrice * 8n) / 10n)]);
    await mineUntilRedeemed(fill);
    for (const t of held) {
      await eventually(
        async () => ((await row(t)).statusReason === RedemptionCode.TX_COST_TOO_HIGH ? true : undefined),
        'the waiting tickets held for their cost',
      );
      expect((await row(t)).status).toBe(WinningTicketStatus.QUEUED);
    }
    const carried = await redeemer.ds.query<{ n: string }[]>(
      'SELECT count(*) AS n FROM chain_tx WHERE refs && $1',
      [held.map(hashOf)],
    );
    expect(Number(carried[0].n)).toBe(0);
  });

  it('redeems every ticket once when the signer lease is lost while groups wait for block space', async () => {
    const sender = await fx.newSender(ETH);
    const fill = await fillABlock(sender, TICKETS);
    const held = [await fx.ticket(sender, CENTI), await fx.ticket(sender, CENTI)];
    await acceptBehind(held);

    // The lease's session ends (Postgres restarted, a network cut): the Redeemer stands by until it
    // holds the lease again, then goes on.
    const lifecycle = redeemer.app.get(RedeemerLifecycle);
    const leaseSession = async () =>
      (
        await redeemer.ds.query<{ pid: number }[]>(
          `SELECT pid FROM pg_stat_activity WHERE lower(application_name) = $1`,
          [`ticketpay-redeemer ${fx.recipient.address.toLowerCase()}`],
        )
      )[0]?.pid;
    const before = await leaseSession();
    expect(before).toBeDefined();
    await redeemer.ds.query('SELECT pg_terminate_backend($1, 10000)', [before]);
    await eventually(async () => {
      const now = await leaseSession();
      return now !== undefined && now !== before && lifecycle.state === 'active' ? true : undefined;
    }, 'the lease held again, in a new session');
    const all = [...fill, ...held];
    await mineUntilRedeemed(all);
    const redeemed = await fx.redeemedHashes();
    for (const t of all) expect(redeemed.filter((h) => h === hashOf(t))).toHaveLength(1);
  });
});

/**
 * One group of every ticket (a batch as large as TICKETS, formed before its window ends) is larger
 * than the next block takes: only the txs that fit go, the rest of the group waits its turn
 * unclaimed, and goes as blocks make room (each tx of one ticket here: 240k limits, a cap of half
 * the block).
 */
describe('Redeemer: block space, a group larger than a block', () => {
  let fx: RedeemerChainFixture;
  let redeemer: InProcessRedeemer;

  beforeAll(async () => {
    ({ fx, redeemer } = await onSmallBlocks('redeemer-block-space-group', {
      REDEEMER_BATCH_MAX_SIZE: String(TICKETS),
      REDEEMER_BATCH_WINDOW_MS: '10000',
    }));
  });
  afterAll(() => stop(fx, redeemer));

  it('sends the txs of the group that fit the next block and holds the rest of it, queued, until blocks are mined', () =>
    sendsAsBlocksMake(fx, redeemer));
});

/** A chain whose blocks hold BLOCK_GAS, and a Redeemer of `env` on it. */
async function onSmallBlocks(
  name: string,
  env: Record<string, string>,
): Promise<{ fx: RedeemerChainFixture; redeemer: InProcessRedeemer }> {
  const fx = await startRedeemerChain();
  // Before the Redeemer first reads the block gas limit (it keeps it a minute).
  await fx.provider.send('evm_setBlockGasLimit', [toQuantity(BLOCK_GAS)]);
  const redeemer = await startInProcessRedeemer(fx, `${inject('redisPrefix')}${name}:`, env);
  return { fx, redeemer };
}

async function stop(
  fx: RedeemerChainFixture | undefined,
  redeemer: InProcessRedeemer | undefined,
): Promise<void> {
  await fx?.provider.send('evm_setAutomine', [true]);
  await redeemer?.app.close();
  await fx?.stop();
}

/** The signer's txs not mined yet, as stored: their gas limits in nonce order. */
async function unminedLimitsOf(fx: RedeemerChainFixture, redeemer: InProcessRedeemer): Promise<bigint[]> {
  const mined = Number(await fx.provider.send('eth_getTransactionCount', [fx.recipient.address, 'latest']));
  const rows = await redeemer.ds.query<{ gas_limit: string }[]>(
    `SELECT gas_limit FROM chain_tx WHERE signer = $1 AND status = 'pending' AND nonce >= $2 ORDER BY nonce`,
    [fx.recipient.address.toLowerCase(), mined],
  );
  return rows.map((r) => BigInt(r.gas_limit));
}

/**
 * TICKETS tickets accepted with mining stopped: the Redeemer sends what the next block is expected
 * to take (whole limits count, nothing mined yet) and holds the rest, queued; each mined block
 * makes room for more, until every ticket is redeemed once, no tx reverted.
 */
async function sendsAsBlocksMake(fx: RedeemerChainFixture, redeemer: InProcessRedeemer): Promise<void> {
  const { row, until } = ticketRows(() => redeemer.tickets);
  const txCount = async (tag: 'latest' | 'pending') =>
    Number(await fx.provider.send('eth_getTransactionCount', [fx.recipient.address, tag]));
  const unminedLimits = () => unminedLimitsOf(fx, redeemer);

  const sender = await fx.newSender(ETH);
  const batch = [];
  for (let i = 0; i < TICKETS; i++) batch.push(await fx.ticket(sender, CENTI));
  const mined = await txCount('latest');
  await fx.provider.send('evm_setAutomine', [false]);
  for (const t of batch) await redeemer.intake.accept(t);

  // Some go out, then the Redeemer stops: what waits is at least a block's gas limits' worth
  // (nothing mined yet, so limits count whole), and was under it before the last tx went.
  const waitingGas = async () => (await unminedLimits()).reduce((a, b) => a + b, 0n);
  await eventually(
    async () => ((await waitingGas()) >= BLOCK_GAS ? true : undefined),
    "a block's gas waiting",
  );
  await new Promise((r) => setTimeout(r, 1_000));
  const sent = (await txCount('pending')) - mined;
  const limits = await unminedLimits();
  expect(sent).toBeGreaterThan(0);
  expect(sent).toBeLessThan(TICKETS);
  expect(limits).toHaveLength(sent);
  const total = limits.reduce((a, b) => a + b, 0n);
  expect(total).toBeGreaterThanOrEqual(BLOCK_GAS);
  expect(total - limits[limits.length - 1]).toBeLessThan(BLOCK_GAS);
  // The others are not claimed: queued, in no tx.
  const statuses = await Promise.all(batch.map(async (t) => (await row(t)).status));
  expect(statuses.filter((s) => s === WinningTicketStatus.QUEUED)).toHaveLength(TICKETS - sent);
  await new Promise((r) => setTimeout(r, 1_000));
  expect((await txCount('pending')) - mined).toBe(sent);

  // Each mined block makes room for more, until all are in.
  for (let i = 0; i < 3 * TICKETS && (await txCount('latest')) < mined + TICKETS; i++) {
    await fx.provider.send('evm_mine', []);
    await new Promise((r) => setTimeout(r, 300));
  }
  await fx.provider.send('evm_setAutomine', [true]);
  for (const t of batch) await until(t, WinningTicketStatus.REDEEMED);
  const redeemed = await fx.redeemedHashes();
  for (const t of batch) expect(redeemed.filter((h) => h === hashOf(t))).toHaveLength(1);
  const reverted = await redeemer.ds.query<{ n: string }[]>(
    `SELECT count(*) AS n FROM chain_tx WHERE signer = $1 AND status = 'reverted'`,
    [fx.recipient.address.toLowerCase()],
  );
  expect(Number(reverted[0].n)).toBe(0);
  const metrics = await (await fetch(`${redeemer.url}/metrics`)).text();
  expect(
    Number(/^redeemer_block_space_waits_total(?:\{[^}]*\})? (\S+)$/m.exec(metrics)?.[1] ?? 0),
  ).toBeGreaterThan(0);
}
