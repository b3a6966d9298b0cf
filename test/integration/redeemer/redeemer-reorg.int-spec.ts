import { parseEther, parseUnits } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { controllerAt } from '#app/chain';
import { WinningTicketStatus } from '#app/database';
import { RedeemerMetrics } from '../../../apps/redeemer/src/metrics/redeemer.metrics.js';
import { startInProcessRedeemer, ticketRows, type InProcessRedeemer } from './in-process-redeemer.js';
import { eventually, hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';

const CENTI = parseEther('0.01');
const CONFIRMATIONS = 4;

/**
 * A reorganisation takes the blocks of the Redeemer's redemption txs away before they have their
 * confirmations: the tickets are still owed, the node has forgotten the txs, and the signer's
 * nonce on chain went back. Nothing may be lost and nothing paid twice.
 */
describe('Redeemer across a reorganisation', () => {
  let fx: RedeemerChainFixture;
  let redeemer: InProcessRedeemer;
  const { until } = ticketRows(() => redeemer.tickets);

  /**
   * Runs `wait` while a block is mined every 200 ms (the Redeemer's confirmations need blocks); no
   * block is mined once it returns (a mine still on its way is waited for).
   */
  async function mining<T>(wait: () => Promise<T>): Promise<T> {
    let mined = Promise.resolve();
    const miner = setInterval(() => {
      mined = mined.then(() => fx.mine(1)).catch(() => undefined);
    }, 200);
    try {
      return await wait();
    } finally {
      clearInterval(miner);
      await mined;
    }
  }

  const startRedeemer = () =>
    startInProcessRedeemer(fx, `${inject('redisPrefix')}redeemer-reorg:`, {
      REDEEMER_CONFIRMATIONS: String(CONFIRMATIONS),
    });

  beforeAll(async () => {
    fx = await startRedeemerChain();
    redeemer = await startRedeemer();
  });

  afterAll(async () => {
    await redeemer?.app.close();
    await fx?.stop();
  });

  // This spec's signer's txs only (its key is new): the run's database is shared with every other spec.
  const lastTxId = async () =>
    (
      await redeemer.ds.query<{ id: string }[]>(
        `SELECT coalesce(max(id), 0)::text AS id FROM chain_tx WHERE signer = $1`,
        [fx.recipient.address.toLowerCase()],
      )
    )[0].id;
  const purposesSince = async (id: string) =>
    (
      await redeemer.ds.query<{ purpose: string }[]>(
        `SELECT purpose FROM chain_tx WHERE signer = $1 AND id > $2 ORDER BY id`,
        [fx.recipient.address.toLowerCase(), id],
      )
    ).map((tx) => tx.purpose);

  const txsOf = (hashes: string[]) =>
    redeemer.ds.query<
      {
        id: string;
        nonce: string;
        status: string;
        mined_hash: string | null;
        block_number: string | null;
        block_hash: string | null;
        gas_used: string | null;
      }[]
    >(
      `SELECT id::text AS id, nonce::text AS nonce, status, mined_hash, block_number::text AS block_number,
          block_hash, gas_used::text AS gas_used
        FROM chain_tx WHERE refs && $1::text[] ORDER BY id`,
      [hashes],
    );

  /** What the ticket's `redemption` row records as paid, and by which tx. */
  const redemptionOf = async (hash: string) =>
    (
      await redeemer.ds.query<{ amount_paid: string | null; chain_tx_id: string | null }[]>(
        `SELECT amount_paid::text, chain_tx_id::text FROM redemption WHERE ticket_hash = $1`,
        [hash],
      )
    )[0];

  /** Where the chain and this spec's signer stand before a case acts: what it compares against. */
  const before = async () => {
    const signer = fx.recipient.address;
    return {
      signer,
      nonceBefore: BigInt(await fx.provider.getTransactionCount(signer, 'latest')),
      blockBefore: await fx.blockNumber(),
      feesBefore: await fx.fees(),
      lastTx: await lastTxId(),
    };
  };

  /** Waits until the ticket `hash` is queued again, and returns its row. */
  const backInLine = (hash: string) =>
    eventually(async () => {
      const row = await redeemer.tickets.findByHash(hash);
      return row?.status === WinningTicketStatus.QUEUED ? row : undefined;
    }, 'the ticket back in line');

  /**
   * After its first tx (at `nonceBefore`) ended `firstStatus`: the ticket is redeemed by a new tx
   * at the next nonce and paid once. In the next round: the one the ticket was made in may end
   * meanwhile, and nobody here initializes rounds.
   */
  async function redeemedAgainOnce(
    ticket: Parameters<typeof hashOf>[0],
    firstStatus: 'reverted' | 'dropped',
    { nonceBefore, feesBefore, lastTx }: Awaited<ReturnType<typeof before>>,
  ): Promise<void> {
    const hash = hashOf(ticket);
    await fx.nextRound();
    const redeemed = await mining(() => until(ticket, WinningTicketStatus.REDEEMED));
    expect((await fx.fees()) - feesBefore).toBe(CENTI);
    expect((await fx.redeemedHashes()).filter((h) => h === hash)).toEqual([hash]);
    const txs = await txsOf([hash]);
    expect(txs.map((tx) => [tx.nonce, tx.status])).toEqual([
      [String(nonceBefore), firstStatus],
      [String(nonceBefore + 1n), 'mined'],
    ]);
    expect(redeemed.txHash).toBe(txs[1].mined_hash);
    expect(await redemptionOf(hash)).toEqual({ amount_paid: CENTI.toString(), chain_tx_id: txs[1].id });
    expect(await purposesSince(lastTx)).toEqual(['redeem', 'redeem']);
  }

  it('redeems every ticket of the txs a reorganisation dropped (two nonces in a row), each paid once', async () => {
    const senders = [await fx.newSender(parseEther('1')), await fx.newSender(parseEther('1'))];
    const tickets = [await fx.ticket(senders[0], CENTI), await fx.ticket(senders[1], CENTI)];
    const hashes = tickets.map(hashOf);
    const { signer, nonceBefore, blockBefore, feesBefore } = await before();

    // One tx each, one after the other (nonces n and n + 1): anvil mines each at once.
    for (const t of tickets) {
      await redeemer.intake.accept(t);
      await eventually(
        async () => ((await fx.redeemedHashes()).includes(hashOf(t)) ? true : undefined),
        `ticket ${hashOf(t)} redeemed on chain`,
      );
    }
    expect((await txsOf(hashes)).map((tx) => BigInt(tx.nonce))).toEqual([nonceBefore, nonceBefore + 1n]);
    // Neither confirmed yet.
    const mined = await fx.blockNumber();
    expect(mined - blockBefore).toBeLessThan(CONFIRMATIONS);
    for (const t of tickets)
      expect((await redeemer.tickets.findByHash(hashOf(t)))!.status).toBe(WinningTicketStatus.SUBMITTED);

    // The blocks holding them are gone, and with them the txs (anvil does not put them back in its pool).
    await fx.provider.send('anvil_rollback', [Number(mined - blockBefore)]);
    expect(await fx.blockNumber()).toBe(blockBefore);
    expect(BigInt(await fx.provider.getTransactionCount(signer, 'latest'))).toBe(nonceBefore);
    expect((await fx.redeemedHashes()).filter((h) => hashes.includes(h))).toEqual([]);

    // Blocks go on: the Redeemer gets the tickets mined again and settles them once confirmed.
    await mining(async () => {
      for (const t of tickets) await until(t, WinningTicketStatus.REDEEMED);
    });
    const onChain = (await fx.redeemedHashes()).filter((h) => hashes.includes(h));
    expect(onChain.sort()).toEqual([...hashes].sort());
    expect((await fx.fees()) - feesBefore).toBe(2n * CENTI);
    const txs = await txsOf(hashes);
    expect(txs.filter((tx) => tx.status === 'mined').length).toBeGreaterThan(0);
    expect(txs.every((tx) => tx.status !== 'pending')).toBe(true);
  });

  it('broadcasts again a final tx a deeper reorganisation took away, so it pays again and the tx above its nonce is mined', async () => {
    // Past its confirmations a tx is final here (a deeper reorganisation is what the setting is
    // chosen against) and its tickets are recorded paid. Should one happen all the same, the nonce
    // comes free under our next tx, which would wait for ever: the stored tx goes out again.
    const [first, second] = [await fx.newSender(parseEther('1')), await fx.newSender(parseEther('1'))];
    const settled = await fx.ticket(first, CENTI);
    const pending = await fx.ticket(second, CENTI);
    const { signer, nonceBefore, blockBefore, feesBefore, lastTx } = await before();

    await redeemer.intake.accept(settled);
    await mining(() => until(settled, WinningTicketStatus.REDEEMED));
    // The next tx waits in the pool; then the blocks since `settled`'s tx go away.
    await fx.provider.send('evm_setAutomine', [false]);
    try {
      await redeemer.intake.accept(pending);
      await until(pending, WinningTicketStatus.SUBMITTED);
      await fx.provider.send('anvil_rollback', [Number((await fx.blockNumber()) - blockBefore)]);
      expect(BigInt(await fx.provider.getTransactionCount(signer, 'latest'))).toBe(nonceBefore);
      expect(await fx.redeemedHashes()).not.toContain(hashOf(settled));
      await mining(() => until(pending, WinningTicketStatus.REDEEMED));
    } finally {
      await fx.provider.send('evm_setAutomine', [true]);
    }
    expect(await fx.redeemedHashes()).toEqual(expect.arrayContaining([hashOf(settled), hashOf(pending)]));
    expect((await fx.fees()) - feesBefore).toBe(2n * CENTI);
    expect((await redeemer.tickets.findByHash(hashOf(settled)))!.status).toBe(WinningTicketStatus.REDEEMED);
    // Its two txs, no filler.
    expect(await purposesSince(lastTx)).toEqual(['redeem', 'redeem']);
  });

  it('broadcasts again a final tx a deeper reorganisation took away with no tx of ours pending above it', async () => {
    // No later tx shows the freed nonce: the manager still polls the chain's count for a while
    // after a tx went final, and a count below its floor has the stored tx sent again.
    const sender = await fx.newSender(parseEther('1'));
    const ticket = await fx.ticket(sender, CENTI);
    const { signer, nonceBefore, blockBefore, feesBefore, lastTx } = await before();

    await redeemer.intake.accept(ticket);
    await mining(() => until(ticket, WinningTicketStatus.REDEEMED));
    await fx.provider.send('anvil_rollback', [Number((await fx.blockNumber()) - blockBefore)]);
    expect(BigInt(await fx.provider.getTransactionCount(signer, 'latest'))).toBe(nonceBefore);
    expect(await fx.redeemedHashes()).not.toContain(hashOf(ticket));
    expect(await fx.fees()).toBe(feesBefore);

    await eventually(
      async () => ((await fx.redeemedHashes()).includes(hashOf(ticket)) ? true : undefined),
      `ticket ${hashOf(ticket)} redeemed on chain again`,
    );
    expect((await fx.fees()) - feesBefore).toBe(CENTI);
    expect(BigInt(await fx.provider.getTransactionCount(signer, 'latest'))).toBe(nonceBefore + 1n);
    // In its tx again until that is confirmed anew.
    await mining(() => until(ticket, WinningTicketStatus.REDEEMED));
    // The same signed tx, no new one and no filler.
    expect(await purposesSince(lastTx)).toEqual(['redeem']);
  });

  it('broadcasts again a final tx a deeper reorganisation took away while the Redeemer was down', async () => {
    // The Redeemer that finished the tx is gone: the one started next reads the signer's last final
    // tx from the store and watches it, instead of taking the chain's lower count for the floor.
    const sender = await fx.newSender(parseEther('1'));
    const ticket = await fx.ticket(sender, CENTI);
    const later = await fx.ticket(await fx.newSender(parseEther('1')), CENTI);
    const { signer, nonceBefore, blockBefore, feesBefore, lastTx } = await before();

    await redeemer.intake.accept(ticket);
    await mining(() => until(ticket, WinningTicketStatus.REDEEMED));
    await redeemer.app.close();
    await fx.provider.send('anvil_rollback', [Number((await fx.blockNumber()) - blockBefore)]);
    expect(BigInt(await fx.provider.getTransactionCount(signer, 'latest'))).toBe(nonceBefore);
    expect(await fx.redeemedHashes()).not.toContain(hashOf(ticket));

    redeemer = await startRedeemer();
    await eventually(
      async () => ((await fx.redeemedHashes()).includes(hashOf(ticket)) ? true : undefined),
      `ticket ${hashOf(ticket)} redeemed on chain again`,
    );
    expect((await fx.fees()) - feesBefore).toBe(CENTI);
    expect(BigInt(await fx.provider.getTransactionCount(signer, 'latest'))).toBe(nonceBefore + 1n);
    // A ticket redeemed after the restart takes the next nonce, not the freed one.
    await redeemer.intake.accept(later);
    await mining(() => until(later, WinningTicketStatus.REDEEMED));
    expect((await fx.fees()) - feesBefore).toBe(2n * CENTI);
    expect((await txsOf([hashOf(later)])).map((tx) => BigInt(tx.nonce))).toEqual([nonceBefore + 1n]);
    expect((await redeemer.tickets.findByHash(hashOf(ticket)))!.status).toBe(WinningTicketStatus.REDEEMED);
    // The first tx sent again as it was signed, then the later ticket's: no filler.
    expect(await purposesSince(lastTx)).toEqual(['redeem', 'redeem']);
  });

  it('puts back in line the ticket of a final tx a deeper reorganisation took away when its copy reverts, and redeems it once', async () => {
    // The tx's copy sent again after the reorganisation meets a paused system and reverts: the
    // ticket, recorded paid by the tx, was not paid after all. A new round first: the case mines
    // blocks at three stages, and the ticket must stay valid through them.
    await fx.nextRound();
    const sender = await fx.newSender(parseEther('1'));
    const ticket = await fx.ticket(sender, CENTI);
    const hash = hashOf(ticket);
    const chainBefore = await before();
    const { signer, nonceBefore, blockBefore, feesBefore } = chainBefore;
    const controller = controllerAt(fx.protocol.controller, fx.owner);

    await redeemer.intake.accept(ticket);
    await mining(() => until(ticket, WinningTicketStatus.REDEEMED));
    const [paid] = await txsOf([hash]);
    expect(paid.status).toBe('mined');
    await redeemer.app.close();
    await fx.provider.send('anvil_rollback', [Number((await fx.blockNumber()) - blockBefore)]);
    expect(BigInt(await fx.provider.getTransactionCount(signer, 'latest'))).toBe(nonceBefore);
    expect(await fx.redeemedHashes()).not.toContain(hash);
    await (await controller.pause()).wait();
    try {
      redeemer = await startRedeemer();
      // The copy is mined and reverts: the tx is recorded reverted, the ticket back in line, unpaid.
      const reverted = await mining(() =>
        eventually(async () => {
          const [tx] = await txsOf([hash]);
          return tx.status === 'reverted' ? tx : undefined;
        }, 'the reopened tx recorded reverted'),
      );
      expect(reverted).toMatchObject({ id: paid.id, nonce: paid.nonce });
      const back = await backInLine(hash);
      expect(back.txHash).toBe(paid.mined_hash);
      expect(await redemptionOf(hash)).toEqual({ amount_paid: null, chain_tx_id: null });
      expect((await redeemer.app.get(RedeemerMetrics).reopened.get()).values[0]?.value).toBe(1);
      expect(await fx.fees()).toBe(feesBefore);
    } finally {
      await (await controller.unpause()).wait();
    }

    // Unpaused: redeemed by a new tx at the next nonce.
    await redeemedAgainOnce(ticket, 'reverted', chainBefore);
  });
  /** The sum and count of the Redeemer's redemption tx latencies (signing, or reopening, to final), seconds. */
  const latencies = async () => {
    const { values } = await redeemer.app.get(RedeemerMetrics).txLatency.get();
    const of = (name: string) =>
      values.find(
        (v) => v.metricName === `redeemer_tx_latency_seconds_${name}` && v.labels.purpose === 'redeem',
      )?.value ?? 0;
    return { sum: of('sum'), count: of('count') };
  };

  /** The redeemer's count of tickets put back in their tx by a reorganisation. */
  const reopenedCount = async () =>
    (await redeemer.app.get(RedeemerMetrics).reopened.get()).values[0]?.value ?? 0;

  /**
   * Replaces the blocks since `blockBefore` with as many new ones holding `raws` (signed txs, in
   * order; in the first new block unless a block offset comes with one), in one step: no poll of
   * the Redeemer sees the chain in between. Returns how many blocks were replaced.
   */
  async function reorgSince(blockBefore: bigint, raws: (string | [string, number])[]): Promise<bigint> {
    const depth = (await fx.blockNumber()) - blockBefore;
    const placed = raws.map((raw) => (typeof raw === 'string' ? [raw, 0] : raw));
    await fx.provider.send('anvil_reorg', [Number(depth), placed]);
    expect(await fx.blockNumber()).toBe(blockBefore + depth);
    return depth;
  }

  /** The signed bytes of stored tx `id`. */
  const rawOf = async (id: string) =>
    (await redeemer.ds.query<{ raw_tx: string }[]>(`SELECT raw_tx FROM chain_tx WHERE id = $1`, [id]))[0]
      .raw_tx;

  /** `tx` signed by `wallet` at its next nonce on chain (or `nonce`), with room for any base fee here. */
  async function signed(
    wallet: typeof fx.owner,
    tx: { to: string; data?: string; gasLimit: bigint; nonce?: bigint },
  ): Promise<string> {
    const nonce = tx.nonce ?? BigInt(await fx.provider.getTransactionCount(wallet.address, 'latest'));
    return wallet.signTransaction({
      ...tx,
      nonce: Number(nonce),
      value: 0n,
      type: 2,
      chainId: (await fx.provider.getNetwork()).chainId,
      maxFeePerGas: parseUnits('100', 'gwei'),
      maxPriorityFeePerGas: 1n,
    });
  }

  /** A ticket of a new sender made in a new round, redeemed and final; where the chain stood before, and its tx. */
  async function redeemedInNewRound() {
    await fx.nextRound();
    const ticket = await fx.ticket(await fx.newSender(parseEther('1')), CENTI);
    const hash = hashOf(ticket);
    const chainBefore = await before();
    await redeemer.intake.accept(ticket);
    await mining(() => until(ticket, WinningTicketStatus.REDEEMED));
    const [paid] = await txsOf([hash]);
    return { ticket, hash, chainBefore, paid };
  }

  /**
   * The new chain holds another tx of the signer's key at the nonce of a final tx (its operator's
   * wallet, say): the count never falls below the floor, so only the tx's missing receipt shows it.
   * With `down`, the Redeemer that finished the tx is gone meanwhile: the next one knows the tx's
   * block only from its row, and must still see it.
   */
  async function nonceTaken(down: boolean): Promise<void> {
    const { ticket, hash, chainBefore, paid } = await redeemedInNewRound();
    const { signer, nonceBefore, blockBefore } = chainBefore;
    expect(paid).toMatchObject({ nonce: String(nonceBefore), status: 'mined' });
    if (down) await redeemer.app.close();
    const reopenedBefore = down ? 0 : await reopenedCount();
    await reorgSince(blockBefore, [
      await signed(fx.recipient, { to: signer, gasLimit: 21_000n, nonce: nonceBefore }),
    ]);
    expect(BigInt(await fx.provider.getTransactionCount(signer, 'latest'))).toBe(nonceBefore + 1n);
    expect(await fx.redeemedHashes()).not.toContain(hash);
    if (down) redeemer = await startRedeemer();

    await eventually(async () => {
      const [tx] = await txsOf([hash]);
      return tx.status === 'dropped' ? tx : undefined;
    }, 'the final tx recorded dropped');
    expect(await reopenedCount()).toBe(reopenedBefore + 1);
    // Back in line, then redeemed by a new tx at the next free nonce.
    await redeemedAgainOnce(ticket, 'dropped', chainBefore);
  }

  it('records dropped a final tx a deeper reorganisation took away while another tx of its key took the nonce, and redeems its ticket again', () =>
    nonceTaken(false));

  it('does so too when the Redeemer was down meanwhile', () => nonceTaken(true));

  /**
   * The new chain mined the same signed tx again (as the network does with a reorganised block's
   * txs), after a pause that makes it revert there: the count never fell, the receipt is there,
   * only its block changed, and with it the outcome. With `down`, as in nonceTaken; with
   * 'no block hash', its row is one stored before block hashes were (or corrected from logs): the
   * next Redeemer compares the receipt with the row's other fields.
   */
  async function minedElsewhere(down: boolean | 'no block hash'): Promise<void> {
    const { ticket, hash, chainBefore, paid } = await redeemedInNewRound();
    const { signer, nonceBefore, blockBefore } = chainBefore;
    const controller = controllerAt(fx.protocol.controller, fx.owner);
    const raw = await rawOf(paid.id);
    if (down === 'no block hash') {
      await redeemer.ds.query(`UPDATE chain_tx SET block_hash = NULL WHERE id = $1`, [paid.id]);
    }
    if (down) await redeemer.app.close();
    const reopenedBefore = down ? 0 : await reopenedCount();
    const latencyBefore = down ? { sum: 0, count: 0 } : await latencies();
    const rolledBackAt = Date.now();
    const pause = controller.interface.encodeFunctionData('pause');
    await reorgSince(blockBefore, [
      await signed(fx.owner, { to: fx.protocol.controller, data: pause, gasLimit: 200_000n }),
      raw,
    ]);
    try {
      expect(await controller.paused()).toBe(true);
      expect(BigInt(await fx.provider.getTransactionCount(signer, 'latest'))).toBe(nonceBefore + 1n);
      const again = await fx.provider.getTransactionReceipt(paid.mined_hash!);
      expect(again?.status).toBe(0);
      expect(await fx.redeemedHashes()).not.toContain(hash);
      if (down) redeemer = await startRedeemer();

      const reverted = await mining(() =>
        eventually(async () => {
          const [tx] = await txsOf([hash]);
          return tx.status === 'reverted' ? tx : undefined;
        }, 'the final tx recorded reverted'),
      );
      expect(reverted).toMatchObject({ id: paid.id, nonce: paid.nonce, mined_hash: paid.mined_hash });
      expect(await reopenedCount()).toBe(reopenedBefore + 1);
      // Its latency this time counts from its reopening, not from its signing before the first outcome.
      const latency = await eventually(async () => {
        const now = await latencies();
        return now.count === latencyBefore.count + 1 ? now.sum - latencyBefore.sum : undefined;
      }, 'the latency of the reopened tx observed');
      expect(latency).toBeLessThanOrEqual((Date.now() - rolledBackAt) / 1000);
      await backInLine(hash);
      expect(await redemptionOf(hash)).toEqual({ amount_paid: null, chain_tx_id: null });
    } finally {
      await (await controller.unpause()).wait();
    }

    await redeemedAgainOnce(ticket, 'reverted', chainBefore);
  }

  it('settles again a final tx a deeper reorganisation put in another block where it reverts, and redeems its ticket once', () =>
    minedElsewhere(false));

  it('does so too when the Redeemer was down meanwhile', () => minedElsewhere(true));

  it('does so too when the Redeemer was down meanwhile and the row has no block hash', () =>
    minedElsewhere('no block hash'));

  it('settles again a final tx whose block the same reorganisation hid under a later final tx of ours', async () => {
    // The new chain also mines our next tx, pending until then, one block above the first one's
    // copy and deep enough to be final at the next look: its block, first seen after the
    // reorganisation, must not vouch for the older one's, recorded before it.
    const otherSender = await fx.newSender(parseEther('1'));
    const { ticket, hash, chainBefore, paid } = await redeemedInNewRound();
    const { nonceBefore, blockBefore, feesBefore } = chainBefore;
    const later = await fx.ticket(otherSender, CENTI);
    const controller = controllerAt(fx.protocol.controller, fx.owner);
    // Room for the later tx to be confirmed well within the replaced blocks.
    await fx.mine(CONFIRMATIONS);

    await fx.provider.send('evm_setAutomine', [false]);
    try {
      await redeemer.intake.accept(later);
      await until(later, WinningTicketStatus.SUBMITTED);
      const [pending] = await txsOf([hashOf(later)]);
      expect(pending).toMatchObject({ nonce: String(nonceBefore + 1n), status: 'pending' });
      const pause = controller.interface.encodeFunctionData('pause');
      const depth = await reorgSince(blockBefore, [
        await signed(fx.owner, { to: fx.protocol.controller, data: pause, gasLimit: 200_000n }),
        await rawOf(paid.id),
        [await rawOf(pending.id), 1],
      ]);
      expect(depth).toBeGreaterThanOrEqual(2 * CONFIRMATIONS);
    } finally {
      await fx.provider.send('evm_setAutomine', [true]);
    }
    try {
      expect((await fx.provider.getTransactionReceipt(paid.mined_hash!))?.status).toBe(0);
      const txs = await eventually(async () => {
        const rows = await txsOf([hash, hashOf(later)]);
        return rows.every((tx) => tx.status === 'reverted') ? rows : undefined;
      }, 'both txs recorded reverted');
      expect(txs.map((tx) => tx.nonce)).toEqual([String(nonceBefore), String(nonceBefore + 1n)]);
      await backInLine(hash);
      await backInLine(hashOf(later));
    } finally {
      await (await controller.unpause()).wait();
    }
    await fx.nextRound();
    await mining(async () => {
      for (const t of [ticket, later]) await until(t, WinningTicketStatus.REDEEMED);
    });
    expect((await fx.fees()) - feesBefore).toBe(2n * CENTI);
    expect((await fx.redeemedHashes()).filter((h) => h === hash || h === hashOf(later)).sort()).toEqual(
      [hash, hashOf(later)].sort(),
    );
  });

  it('settles again a final tx a deeper reorganisation mined at the same height with the same outcome, seen after a restart', async () => {
    // Same height, status and gas used: only the block's hash, stored with the outcome, tells a
    // restarted Redeemer that the receipt it reads is not the one it settled from.
    const { ticket, hash, chainBefore, paid } = await redeemedInNewRound();
    const { blockBefore, feesBefore } = chainBefore;
    const height = BigInt(paid.block_number!);
    expect(paid.block_hash).toBe((await fx.provider.getBlock(height))!.hash);
    const raw = await rawOf(paid.id);
    await redeemer.app.close();
    const offset = Number(height - blockBefore - 1n);
    await reorgSince(blockBefore, [
      [await signed(fx.owner, { to: fx.owner.address, gasLimit: 21_000n }), offset],
      [raw, offset],
    ]);
    const again = (await fx.provider.getTransactionReceipt(paid.mined_hash!))!;
    expect(again).toMatchObject({ blockNumber: Number(height), status: 1 });
    expect(again.gasUsed.toString()).toBe(paid.gas_used);
    expect(again.blockHash).not.toBe(paid.block_hash);

    redeemer = await startRedeemer();
    const settled = await mining(() =>
      eventually(async () => {
        const [tx] = await txsOf([hash]);
        return tx.block_hash === again.blockHash ? tx : undefined;
      }, 'the final tx settled again from its new block'),
    );
    expect(settled).toMatchObject({ id: paid.id, status: 'mined', block_number: paid.block_number });
    expect(await reopenedCount()).toBe(1);
    expect((await until(ticket, WinningTicketStatus.REDEEMED)).txHash).toBe(paid.mined_hash);
    expect(await redemptionOf(hash)).toEqual({ amount_paid: CENTI.toString(), chain_tx_id: paid.id });
    expect((await fx.fees()) - feesBefore).toBe(CENTI);
    expect((await fx.redeemedHashes()).filter((h) => h === hash)).toEqual([hash]);
  });

  it('reopens no healthy final tx of a restarted Redeemer', async () => {
    // Every final tx the cases above left within the watch is resumed with its row's block: each
    // is still on chain.
    const finalBefore = await redeemer.ds.query<{ n: string }[]>(
      `SELECT count(*)::text AS n FROM chain_tx WHERE signer = $1 AND status IN ('mined', 'reverted')`,
      [fx.recipient.address.toLowerCase()],
    );
    await redeemer.app.close();
    redeemer = await startRedeemer();
    await mining(() => new Promise((resolve) => setTimeout(resolve, 2_000)));
    expect(await reopenedCount()).toBe(0);
    const finalAfter = await redeemer.ds.query<{ n: string }[]>(
      `SELECT count(*)::text AS n FROM chain_tx WHERE signer = $1 AND status IN ('mined', 'reverted')`,
      [fx.recipient.address.toLowerCase()],
    );
    expect(finalAfter).toEqual(finalBefore);
    expect(Number(finalAfter[0].n)).toBeGreaterThan(5);
  });
});
