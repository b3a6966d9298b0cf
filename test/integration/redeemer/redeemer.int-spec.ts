import type { INestApplication } from '@nestjs/common';
import { Wallet, parseEther } from 'ethers';
import { type DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type WinningTicketRepository, WinningTicketStatus } from '#app/database';
import { RedemptionQueue, RedemptionReconciler, WinningTicketIntake } from '#app/queue';
import type { SignedTicket } from '#app/ticket';
import {
  eventually,
  flushRedisPrefixWhenDelayed,
  hashOf,
  redeemDirectly,
  startRedeemerChain,
  type RedeemerChainFixture,
} from './redeemer-fixture.js';
import { RedeemerChain } from '../../../apps/redeemer/src/redemption/redeemer-chain.js';
import { RedemptionGas } from '../../../apps/redeemer/src/redemption/redemption-gas.js';
import { startInProcessRedeemer, ticketRows } from './in-process-redeemer.js';

const OPS_TOKEN = 'redeemer-int-ops-token-0123456789';
const ETH = parseEther('1');
const CENTI = ETH / 100n;

/**
 * The Redeemer in-process against anvil, Postgres and Redis. Tickets enter exactly as the
 * Recipient's do (WinningTicketIntake.accept) and are followed through `winning_ticket` and the chain.
 */
describe('Redeemer', () => {
  let fx: RedeemerChainFixture;
  let app: INestApplication;
  let url: string;
  let intake: WinningTicketIntake;
  let tickets: WinningTicketRepository;
  let ds: DataSource;
  let redisPrefix: string;

  beforeAll(async () => {
    fx = await startRedeemerChain();
    redisPrefix = `${inject('redisPrefix')}redeemer-int:`;
    ({ app, url, intake, tickets, ds } = await startInProcessRedeemer(fx, redisPrefix, {
      REDEEMER_BATCH_WINDOW_MS: '300',
      REDEEMER_RETRY_BASE_MS: '200',
      REDEEMER_RETRY_MAX_MS: '2000',
      REDEEMER_SETTLE_WAIT_MS: '5000',
      REDEEMER_RECONCILE_INTERVAL_MS: '500',
      REDEEMER_OPS_TOKEN: OPS_TOKEN,
    }));
  });

  afterAll(async () => {
    await app?.close();
    await fx?.stop();
  });

  const { row, until } = ticketRows(() => tickets);

  const txCount = async () =>
    Number(await fx.provider.send('eth_getTransactionCount', [fx.recipient.address, 'latest']));

  const amountPaid = async (t: SignedTicket) =>
    BigInt(
      (
        await ds.query<{ paid: string }[]>(
          `SELECT amount_paid::text AS paid FROM redemption WHERE ticket_hash = $1`,
          [hashOf(t)],
        )
      )[0].paid,
    );

  const chainTxsFor = (t: SignedTicket) =>
    ds.query<{ id: string; purpose: string; status: string }[]>(
      `SELECT id, purpose, status FROM chain_tx WHERE $1 = ANY(refs)`,
      [hashOf(t)],
    );

  const ops = (path: string, body?: unknown, token: string | null = OPS_TOKEN) =>
    fetch(`${url}/ops/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('redeems received winning tickets in one batch; the recipient gains exactly their face values', async () => {
    const a = await fx.newSender(ETH);
    const b = await fx.newSender(ETH);
    const batch = [
      await fx.ticket(a, 1n * CENTI),
      await fx.ticket(a, 2n * CENTI),
      await fx.ticket(a, 3n * CENTI),
      await fx.ticket(b, 4n * CENTI),
      await fx.ticket(b, 5n * CENTI),
    ];
    const before = await fx.fees();
    for (const t of batch) await intake.accept(t);

    for (const t of batch) await until(t, WinningTicketStatus.REDEEMED);
    expect((await fx.fees()) - before).toBe(15n * CENTI);

    const txs = await ds.query<{ purpose: string; refs: string[] }[]>(
      `SELECT purpose, refs FROM chain_tx WHERE refs && $1::text[]`,
      [batch.map(hashOf)],
    );
    expect(txs.some((tx) => tx.purpose === 'batch-redeem' && tx.refs.length >= 2)).toBe(true);
    const paid = await ds.query<{ ticket_hash: string; amount_paid: string }[]>(
      `SELECT ticket_hash, amount_paid FROM redemption WHERE ticket_hash = ANY($1::text[])`,
      [batch.map(hashOf)],
    );
    expect(paid.map((p) => BigInt(p.amount_paid)).sort()).toEqual(batch.map((t) => t.faceValue).sort());
    // Each job slept while its ticket's tx was in flight (no polling) and the settlement that
    // redeemed the ticket removed it.
    const jobs = app.get(RedemptionQueue).boardSource();
    for (const t of batch) {
      await eventually(
        async () => ((await jobs.getJob(hashOf(t))) === undefined ? true : undefined),
        `the job of ${hashOf(t)} removed`,
      );
    }
    const redeemed = await fx.redeemedHashes();
    for (const t of batch) {
      expect(redeemed.filter((h) => h === hashOf(t))).toHaveLength(1);
      expect((await row(t)).txHash).toMatch(/^0x[0-9a-f]{64}$/);
    }
  });

  it('gives a reserve-paid ticket enough gas in a batch with deposit-paid ones, judged against a deposit-paid gas figure', async () => {
    // The figure is learned from deposit-paid tickets only.
    const rich = await fx.newSender(ETH);
    const first = await fx.ticket(rich, CENTI);
    await intake.accept(first);
    await until(first, WinningTicketStatus.REDEEMED);
    const round = await fx.rounds.currentRound();
    expect(app.get(RedemptionGas).expected(fx.recipient.address.toLowerCase(), round)).toBeDefined();

    // No deposit at all; and a deposit that covers only the first of two tickets, the second
    // drawing on the reserve inside the same tx.
    const reserveOnly = await fx.newSender(0n, ETH);
    const short = await fx.newSender(CENTI, ETH);
    const batch = [
      await fx.ticket(rich, CENTI),
      await fx.ticket(reserveOnly, 2n * CENTI),
      await fx.ticket(rich, CENTI),
      await fx.ticket(short, CENTI),
      await fx.ticket(short, 3n * CENTI),
    ];
    const before = await fx.fees();
    for (const t of batch) await intake.accept(t);
    for (const t of batch) {
      const done = await until(t, WinningTicketStatus.REDEEMED);
      expect(done.statusReason).toBeNull();
    }
    expect((await fx.fees()) - before).toBe(8n * CENTI);
    // Each went through its first tx (no batch item ran out of gas and came back), and they shared one.
    const txs = await ds.query<{ purpose: string; refs: string[] }[]>(
      `SELECT purpose, refs FROM chain_tx WHERE refs && $1::text[]`,
      [batch.map(hashOf)],
    );
    expect(txs.flatMap((tx) => tx.refs.filter((r) => batch.map(hashOf).includes(r))).sort()).toEqual(
      batch.map(hashOf).sort(),
    );
    expect(txs.some((tx) => tx.purpose === 'batch-redeem' && tx.refs.length >= 3)).toBe(true);
  });

  it("waits for an unfunded sender's funds without holding up another sender's ticket", async () => {
    const broke = await fx.newSender();
    const funded = await fx.newSender(ETH);
    const waiting = await fx.ticket(broke, CENTI);
    const paying = await fx.ticket(funded, CENTI);
    await intake.accept(waiting);
    await intake.accept(paying);

    await until(paying, WinningTicketStatus.REDEEMED);
    await eventually(
      async () => ((await row(waiting)).statusReason === 'INSUFFICIENT_FUNDS' ? true : undefined),
      'funds wait',
    );
    expect((await row(waiting)).status).toBe(WinningTicketStatus.QUEUED);
    expect(await chainTxsFor(waiting)).toHaveLength(0);

    const before = await fx.fees();
    await fx.fundDeposit(broke, ETH);
    await until(waiting, WinningTicketStatus.REDEEMED);
    expect((await fx.fees()) - before).toBe(CENTI);
  });

  it('in its last valid round, redeems a ticket the sender cannot cover for what its funds hold; an earlier one waits', async () => {
    // Params long expired (by blocks the Redeemer has seen: its jobs are not scheduled later).
    const expirationBlock = (await fx.blockNumber()) - 1n;
    const sender = await fx.newSender(CENTI / 2n);
    const previous = (await fx.nextRound()) - 1n;
    // Created last round: this round is its last (validity 2). The other can still wait a round.
    const last = await fx.ticket(sender, CENTI, { creationRound: previous, expirationBlock });
    const early = await fx.ticket(sender, CENTI, { expirationBlock });
    const before = await fx.fees();
    await intake.accept(last);
    await intake.accept(early);

    const paid = await until(last, WinningTicketStatus.REDEEMED);
    expect(paid.statusReason).toBe('UNDERPAID');
    expect((await fx.fees()) - before).toBe(CENTI / 2n);
    await eventually(
      async () => ((await row(early)).statusReason === 'INSUFFICIENT_FUNDS' ? true : undefined),
      'funds wait',
    );
    expect(await chainTxsFor(early)).toHaveLength(0);
    await fx.fundDeposit(sender, ETH);
    await until(early, WinningTicketStatus.REDEEMED);
    expect((await fx.fees()) - before).toBe(CENTI / 2n + CENTI);
  });

  /**
   * The next round, once the Redeemer's polled head is in it: its jobs judge which tickets are in
   * their last round by that head, which may lag the blocks nextRound mines by a poll.
   */
  const nextRoundSeen = async () => {
    const round = await fx.nextRound();
    const chain = app.get(RedeemerChain);
    await eventually(
      async () => ((await chain.head()).rounds.currentRound >= round ? true : undefined),
      'the polled head in the new round',
    );
    return round;
  };

  it('gives a ticket in its last valid round what the funds hold before a younger ticket takes any of it', async () => {
    const expirationBlock = (await fx.blockNumber()) - 1n;
    const sender = await fx.newSender(CENTI);
    const previous = (await nextRoundSeen()) - 1n;
    // The deposit covers neither the last-round ticket nor both; the younger one alone it would.
    const last = await fx.ticket(sender, (CENTI * 12n) / 10n, { creationRound: previous, expirationBlock });
    const young = await fx.ticket(sender, (CENTI * 9n) / 10n, { expirationBlock });
    const before = await fx.fees();
    await intake.acceptAll([last, young]);

    expect((await until(last, WinningTicketStatus.REDEEMED)).statusReason).toBe('UNDERPAID');
    // All the deposit went to the last-round ticket; the younger one is in no tx (before: 0.1 and 0.9).
    expect(await amountPaid(last)).toBe(CENTI);
    expect((await row(young)).status).toBe(WinningTicketStatus.QUEUED);
    expect(await chainTxsFor(young)).toHaveLength(0);
    expect((await fx.fees()) - before).toBe(CENTI);
    await fx.fundDeposit(sender, ETH);
    // In its last round now: no round-end hold (its margin is learned from earlier txs) keeps it.
    await fx.nextRound();
    await until(young, WinningTicketStatus.REDEEMED);
    expect((await fx.fees()) - before).toBe(CENTI + (CENTI * 9n) / 10n);
  });

  it('keeps for a queued ticket in its last valid round what a younger ticket would take, though its job runs later', async () => {
    // Long expired by the time the Redeemer looks (its polled head may lag the new round's blocks).
    const expired = (await fx.blockNumber()) - 1n;
    const sender = await fx.newSender(CENTI);
    const previous = (await nextRoundSeen()) - 1n;
    // The last-round ticket's params have not expired yet: its job waits, it is only queued.
    const last = await fx.ticket(sender, (CENTI * 12n) / 10n, {
      creationRound: previous,
      expirationBlock: (await fx.blockNumber()) + 3n,
    });
    const young = await fx.ticket(sender, (CENTI * 9n) / 10n, { expirationBlock: expired });
    const before = await fx.fees();
    await intake.accept(last);
    await intake.accept(young);
    await eventually(
      async () => ((await row(young)).statusReason === 'INSUFFICIENT_FUNDS' ? true : undefined),
      'funds wait',
    );
    expect(await chainTxsFor(young)).toHaveLength(0);

    await fx.mine(5);
    expect((await until(last, WinningTicketStatus.REDEEMED)).statusReason).toBe('UNDERPAID');
    expect((await fx.fees()) - before).toBe(CENTI);
    expect((await row(young)).status).toBe(WinningTicketStatus.QUEUED);
  });

  it('in its last valid round, redeems a ticket whose gas is above the cost ratio but below its face value', async () => {
    const expirationBlock = (await fx.blockNumber()) - 1n;
    const sender = await fx.newSender(ETH);
    const previous = (await fx.nextRound()) - 1n;
    // About three times a redemption's cost (≈ 120k gas): above the 20% ratio, below the face value.
    const gasPrice = (await fx.provider.getFeeData()).gasPrice!;
    const faceValue = 3n * 130_000n * gasPrice;
    const last = await fx.ticket(sender, faceValue, { creationRound: previous, expirationBlock });
    const early = await fx.ticket(sender, faceValue, { expirationBlock });
    await intake.accept(last);
    await intake.accept(early);

    expect((await until(last, WinningTicketStatus.REDEEMED)).statusReason).toBeNull();
    await eventually(
      async () => ((await row(early)).statusReason === 'TX_COST_TOO_HIGH' ? true : undefined),
      'cost wait',
    );
    expect(await chainTxsFor(early)).toHaveLength(0);
    expect((await ops(`tickets/${hashOf(early)}/redeem`, { ignoreGasLimits: true })).status).toBe(202);
    await until(early, WinningTicketStatus.REDEEMED);
  });

  it("reveals recipientRand no earlier than the reveal block its Recipient stored, past the params' expiry", async () => {
    const sender = await fx.newSender(ETH);
    const queue = app.get(RedemptionQueue);
    // A Recipient whose head may be 4 blocks stale: its winners wait those blocks past expiry.
    const recipientIntake = new WinningTicketIntake(
      tickets,
      queue,
      new RedemptionReconciler(tickets, queue),
      {
        recipients: [],
        reconcileIntervalMs: 3_600_000,
        revealMarginBlocks: 4,
      },
    );
    const expirationBlock = (await fx.blockNumber()) - 1n;
    const t = await fx.ticket(sender, CENTI, { expirationBlock });
    await recipientIntake.accept(t);
    expect((await row(t)).revealBlock).toBe(expirationBlock + 4n);
    const state = async () => (await queue.boardSource().getJob(hashOf(t)))?.getState();
    // Expired by this Redeemer's own margin (1), yet its job sleeps until the stored block.
    await eventually(async () => ((await state()) === 'delayed' ? true : undefined), 'reveal wait');
    expect((await ops(`tickets/${hashOf(t)}/redeem`, {})).status).toBe(202);
    await eventually(async () => ((await state()) === 'delayed' ? true : undefined), 'reveal wait again');
    expect(await row(t)).toMatchObject({ status: WinningTicketStatus.QUEUED });
    expect(await chainTxsFor(t)).toHaveLength(0);
    await fx.mine(3);
    await until(t, WinningTicketStatus.REDEEMED);
  });

  it('waits until the params have expired before revealing recipientRand, even when told to redeem now', async () => {
    const sender = await fx.newSender(ETH);
    const t = await fx.ticket(sender, CENTI, { expirationBlock: (await fx.blockNumber()) + 3n });
    await intake.accept(t);
    const state = async () => (await app.get(RedemptionQueue).boardSource().getJob(hashOf(t)))?.getState();
    // Its job sleeps: delayed by the intake until the params are due to expire, or by a run that found them unexpired.
    await eventually(async () => ((await state()) === 'delayed' ? true : undefined), 'params wait');
    // Redeem-now runs it at once; the Redeemer's own check still finds the params unexpired.
    expect((await ops(`tickets/${hashOf(t)}/redeem`, {})).status).toBe(202);
    await eventually(async () => ((await state()) === 'delayed' ? true : undefined), 'params wait again');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/redeemer_ticket_waits_total\{code="PARAMS_NOT_EXPIRED"[^}]*\} [1-9]/);
    expect(await row(t)).toMatchObject({ status: WinningTicketStatus.QUEUED, statusReason: null });
    expect(await chainTxsFor(t)).toHaveLength(0);
    await fx.mine(3);
    await until(t, WinningTicketStatus.REDEEMED);
  });

  it('fails a ticket already used on chain with TICKET_USED and sends no transaction', async () => {
    const sender = await fx.newSender(ETH);
    const t = await fx.ticket(sender, CENTI);
    await redeemDirectly(fx, t);
    const sent = await txCount();
    await intake.accept(t);
    const final = await until(t, WinningTicketStatus.FAILED);
    expect(final.statusReason).toBe('TICKET_USED');
    expect(final.txHash).toBeNull();
    expect(await chainTxsFor(t)).toHaveLength(0);
    expect(await txCount()).toBe(sent);
  });

  it('ends a ticket outside its validity window as expired, without a transaction', async () => {
    const sender = await fx.newSender(ETH);
    const t = await fx.ticket(sender, CENTI);
    await fx.nextRound();
    await fx.nextRound();
    const sent = await txCount();
    await intake.accept(t);
    const final = await until(t, WinningTicketStatus.EXPIRED);
    expect(final.statusReason).toBe('TICKET_EXPIRED');
    expect(await chainTxsFor(t)).toHaveLength(0);
    expect(await txCount()).toBe(sent);
  });

  it('rebuilds the queue from Postgres after Redis is flushed mid-run; every ticket is redeemed once', async () => {
    const late = await fx.newSender();
    const ready = await fx.newSender(ETH);
    const waiting = [
      await fx.ticket(late, CENTI),
      await fx.ticket(late, 2n * CENTI),
      await fx.ticket(late, 3n * CENTI),
    ];
    const flowing = [
      await fx.ticket(ready, CENTI),
      await fx.ticket(ready, CENTI),
      await fx.ticket(ready, 2n * CENTI),
    ];
    const all = [...waiting, ...flowing];
    const before = await fx.fees();
    for (const t of waiting) await intake.accept(t);
    await eventually(
      async () => ((await row(waiting[0])).statusReason === 'INSUFFICIENT_FUNDS' ? true : undefined),
      'funds wait',
    );
    // Flushed at once, as FLUSHALL would, while these are being gathered into a batch or sent, and
    // only at a moment the waiting tickets sit in delayed jobs: then nothing in this process holds
    // them and only the reconciler can give them a job again. (Flushed while a worker holds them
    // instead, their holder may redeem them itself once the funds arrive: no job to rebuild.)
    for (const t of flowing) await intake.accept(t);
    const delayed = app.get(RedemptionQueue).boardSource().keys.delayed;
    const flushed = await eventually(
      async () =>
        (await flushRedisPrefixWhenDelayed(inject('redisUrl'), redisPrefix, delayed, waiting.map(hashOf))) ??
        undefined,
      'the waiting tickets to be delayed, to flush Redis',
    );
    expect(flushed).toBeGreaterThan(0);
    await fx.fundDeposit(late, ETH);

    for (const t of all) await until(t, WinningTicketStatus.REDEEMED);
    expect((await fx.fees()) - before).toBe(10n * CENTI);
    const redeemed = await fx.redeemedHashes();
    for (const t of all) expect(redeemed.filter((h) => h === hashOf(t))).toHaveLength(1);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/redeemer_jobs_rebuilt_total\S* [1-9]/);
  });

  it('"redeem now" over HTTP needs the bearer token and can lift the gas limits once', async () => {
    const sender = await fx.newSender(ETH);
    // Worth far less than its gas: waits under the 20% tx-cost ratio.
    const t = await fx.ticket(sender, 1_000_000_000n);
    await intake.accept(t);
    await eventually(
      async () => ((await row(t)).statusReason === 'TX_COST_TOO_HIGH' ? true : undefined),
      'cost wait',
    );

    expect((await ops(`tickets/${hashOf(t)}/redeem`, {}, null)).status).toBe(401);
    expect((await ops(`tickets/${hashOf(t)}/redeem`, {}, 'wrong-token-0123456789')).status).toBe(401);
    expect((await ops(`tickets/0x1234/redeem`, {})).status).toBe(400);
    expect((await ops(`tickets/0x${'ab'.repeat(32)}/redeem`, {})).status).toBe(404);

    const res = await ops(`tickets/${hashOf(t)}/redeem`, { ignoreGasLimits: true });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ ticketHash: hashOf(t), status: 'queued' });
    await until(t, WinningTicketStatus.REDEEMED);
    expect((await ops(`tickets/${hashOf(t)}/redeem`, {})).status).toBe(409);
  });

  it('withdraws the recipient fees and reports its state and metrics', async () => {
    const fees = await fx.fees();
    expect(fees).toBeGreaterThan(0n);
    const to = Wallet.createRandom().address;
    const res = await ops('fees/withdraw', { to });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'mined',
      amount: fees.toString(),
      to: to.toLowerCase(),
    });
    expect(await fx.fees()).toBe(0n);
    expect(await fx.provider.getBalance(to)).toBe(fees);
    expect((await ops('fees/withdraw', {})).status).toBe(409);

    const status = (await (await ops('status')).json()) as Record<string, unknown>;
    expect(status).toMatchObject({
      state: 'active',
      signer: fx.recipient.address.toLowerCase(),
      pendingTxs: [],
    });

    const metrics = await (await fetch(`${url}/metrics`)).text();
    for (const name of [
      'redeemer_queue_jobs{',
      'redeemer_ticket_outcomes_total{status="redeemed"',
      'redeemer_ticket_outcomes_total{status="failed",code="TICKET_USED"',
      'redeemer_ticket_outcomes_total{status="expired",code="TICKET_EXPIRED"',
      'redeemer_gas_used_total{purpose="batch-redeem"',
      'redeemer_face_value_redeemed_wei_total',
      'redeemer_tx_latency_seconds_bucket',
      'redeemer_retries_total',
      'redeemer_ticket_waits_total{code="INSUFFICIENT_FUNDS"',
    ]) {
      expect(metrics).toContain(name);
    }
  });
});
