import { randomBytes } from 'node:crypto';
import { parseEther, type Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteSenderMonitor, SenderMonitorErrorCode, type MaxFloatChange } from '#app/clients';
import { TicketErrorCode } from '#app/ticket';
import { makeTicket, mined, redeem } from '../contracts/protocol-fixture.js';
import { eventually, Recorder, startMonitor, type MonitorUnderTest } from './harness.js';

// Max float and sender validity as PROTOCOL.md §8.1/§8.3 define them, followed from chain events
// and pushed to WatchMaxFloat subscribers (through RemoteSenderMonitor, the Recipient's client).

const ETH = parseEther('1');
const eth = (s: string) => parseEther(s);

let m: MonitorUnderTest;
let client: RemoteSenderMonitor;
let r0: string;
let r1: string;
const recorders: Recorder<MaxFloatChange>[] = [];

beforeAll(async () => {
  m = await startMonitor('sender-monitor-spec');
  client = new RemoteSenderMonitor({ target: m.grpcUrl });
  [r0, r1] = m.fx.recipients.map((r) => r.address.toLowerCase());
});
afterAll(async () => {
  for (const r of recorders) r.close();
  client?.close();
  await m?.stop();
});

function watch(sender: Wallet, recipient: string): Recorder<MaxFloatChange> {
  const r = new Recorder(client.changes(sender.address, recipient));
  recorders.push(r);
  return r;
}

async function fundedSender(deposit: bigint, reserve: bigint): Promise<Wallet> {
  const sender = await m.fx.newAccount();
  if (deposit + reserve > 0n) {
    await mined(m.fx.brokerAs(sender).fundDepositAndReserve(deposit, reserve, { value: deposit + reserve }));
  }
  return sender;
}

describe('sender-monitor: max float and validity from chain events', () => {
  it('funding raises the max float to the reserve share; the deposit is not counted', async () => {
    const sender = await m.fx.newAccount();
    const w = watch(sender, r0);
    const initial = await w.next();
    expect(initial).toMatchObject({ reason: 'INITIAL', maxFloat: 0n, validity: { valid: true } });

    await mined(m.fx.brokerAs(sender).fundDepositAndReserve(ETH, 2n * ETH, { value: 3n * ETH }));
    const funded = await w.next((c) => c.maxFloat === ETH);
    expect(funded.reason).toBe('CHAIN_EVENT');

    await mined(m.fx.brokerAs(sender).fundReserve({ value: eth('0.5') }));
    await w.next((c) => c.maxFloat === eth('1.25'));
    expect(await client.maxFloat(sender.address, r0)).toBe(eth('1.25'));
    expect(await client.maxFloat(sender.address, r1)).toBe(eth('1.25'));

    const info = await client.senderInfo(sender.address);
    expect(info.info).toEqual({
      deposit: ETH,
      withdrawRound: 0n,
      reserve: { fundsRemaining: eth('2.5'), claimedInCurrentRound: 0n },
    });
    expect(info.poolSize).toBe(2n);
    expect(info.validity).toEqual({ valid: true });
    expect(info.recipients.map((r) => [r.recipient, r.recipientActive, r.maxFloat])).toEqual([
      [r0, true, eth('1.25')],
      [r1, true, eth('1.25')],
    ]);

    // A sender with a deposit and no reserve has nothing to float.
    const depositOnly = await fundedSender(ETH, 0n);
    expect(await client.maxFloat(depositOnly.address, r0)).toBe(0n);
  });

  it("a redemption lowers only the redeeming recipient's max float, by what it claimed; a new round resets claims", async () => {
    await m.fx.nextRound();
    const sender = await fundedSender(eth('0.1'), ETH);
    const w0 = watch(sender, r0);
    const w1 = watch(sender, r1);
    await w0.next((c) => c.maxFloat === eth('0.5'));
    await w1.next((c) => c.maxFloat === eth('0.5'));

    // The deposit pays 0.1 first, the reserve the other 0.2: r0 has claimed 0.2 of its 0.5.
    await mined(redeem(m.fx.broker, await makeTicket(m.fx, sender, r0, eth('0.3'))));
    const after = await w0.next((c) => c.maxFloat !== eth('0.5'));
    expect(after).toMatchObject({ maxFloat: eth('0.3'), reason: 'CHAIN_EVENT' });

    const info = await client.senderInfo(sender.address);
    expect(info.info.deposit).toBe(0n);
    expect(info.info.reserve).toEqual({ fundsRemaining: eth('0.8'), claimedInCurrentRound: eth('0.2') });
    // Another recipient's claim is added back: r1 keeps its whole share this round.
    expect(info.recipients.map((r) => [r.claimedReserve, r.reserveAllocation, r.maxFloat])).toEqual([
      [eth('0.2'), eth('0.3'), eth('0.3')],
      [0n, eth('0.5'), eth('0.5')],
    ]);

    // Next round: a fresh allocation of what is left, 0.8 / 2, from its first block, before it is
    // initialized (nothing can be claimed in it until then), as the contract counts it.
    await m.fx.mineToNextRoundUninitialized();
    expect(await w0.next((c) => c.maxFloat === eth('0.4'))).toMatchObject({ reason: 'ROUND' });
    await w1.next((c) => c.maxFloat === eth('0.4'));
    const uninitialized = await client.senderInfo(sender.address);
    expect(uninitialized.info.reserve).toEqual({ fundsRemaining: eth('0.8'), claimedInCurrentRound: 0n });
    expect(uninitialized.recipients.map((r) => [r.claimedReserve, r.reserveAllocation, r.maxFloat])).toEqual([
      [0n, eth('0.4'), eth('0.4')],
      [0n, eth('0.4'), eth('0.4')],
    ]);
    const fromChain = await m.fx.broker.claimableReserve(sender.address, r0);
    expect(fromChain).toBe(eth('0.4'));

    // Initialized: the same allocation (the NewRound event resets the cached claims).
    await mined(m.fx.rounds.initializeRound());
    await m.caughtUp();
    expect(await client.maxFloat(sender.address, r0)).toBe(eth('0.4'));
    expect((await client.senderInfo(sender.address)).info.reserve.claimedInCurrentRound).toBe(0n);
  });

  it('unlock makes the sender invalid once its withdraw round is within a round; withdraw empties it; own funding cancels the unlock', async () => {
    const round = await m.fx.nextRound();
    const sender = await fundedSender(ETH, ETH);
    const w = watch(sender, r0);
    await w.next((c) => c.maxFloat === eth('0.5'));

    await mined(m.fx.brokerAs(sender).unlock());
    const unlocking = await eventually(
      () => client.senderInfo(sender.address),
      (i) => i.info.withdrawRound !== 0n,
    );
    // withdrawRound = round + 2 > lastInitializedRound + 1: still accepted (§8.3).
    expect(unlocking.info.withdrawRound).toBe(round + 2n);
    expect(unlocking.validity.valid).toBe(true);
    await expect(client.validateSender(sender.address)).resolves.toBeUndefined();

    await m.fx.nextRound();
    const invalid = await w.next((c) => !c.validity.valid);
    expect(invalid).toMatchObject({
      maxFloat: eth('0.5'),
      reason: 'ROUND',
      validity: { valid: false, errorCode: TicketErrorCode.SENDER_UNLOCKING },
    });
    expect(invalid.validity.errorMessage).toMatch(/is set to unlock soon/);
    await expect(client.validateSender(sender.address)).rejects.toMatchObject({
      code: TicketErrorCode.SENDER_UNLOCKING,
    });

    await m.fx.nextRound();
    await mined(m.fx.brokerAs(sender).withdraw());
    const withdrawn = await w.next((c) => c.maxFloat === 0n);
    expect(withdrawn.validity.valid).toBe(false);
    const info = await client.senderInfo(sender.address);
    expect(info.info.deposit).toBe(0n);
    expect(info.info.reserve.fundsRemaining).toBe(0n);

    // The sender's own funding cancels its unlock (UnlockCancelled).
    await mined(m.fx.brokerAs(sender).fundReserve({ value: ETH }));
    const back = await w.next((c) => c.validity.valid);
    expect(back.maxFloat).toBe(eth('0.5'));
    await expect(client.validateSender(sender.address)).resolves.toBeUndefined();
  });

  it('a new round with a different pool size updates every tracked sender', async () => {
    const a = await fundedSender(0n, eth('1.2'));
    const b = await fundedSender(0n, eth('0.6'));
    const wa = watch(a, r0);
    const wb = watch(b, r1);
    await wa.next((c) => c.maxFloat === eth('0.6'));
    await wb.next((c) => c.maxFloat === eth('0.3'));

    const third = await m.fx.newAccount();
    await mined(m.fx.bonding.register(third.address));
    await mined(m.fx.bonding.setActive(third.address, true));
    await m.fx.nextRound();
    await wa.next((c) => c.maxFloat === eth('0.4'));
    await wb.next((c) => c.maxFloat === eth('0.2'));
    expect((await client.senderInfo(a.address)).poolSize).toBe(3n);

    await mined(m.fx.bonding.setActive(third.address, false));
    await m.fx.nextRound();
    await wa.next((c) => c.maxFloat === eth('0.6'));
    await wb.next((c) => c.maxFloat === eth('0.3'));
  });

  it('tickets pending redemption in Postgres lower the max float unless the deposit covers 3x them', async () => {
    const sender = await fundedSender(eth('0.5'), ETH);
    const w = watch(sender, r0);
    await w.next((c) => c.maxFloat === eth('0.5'));
    const s = sender.address.toLowerCase();

    // Another writer (the Recipient's intake, a Redeemer) moves winning_ticket rows.
    const first = await insertPending(s, r0, eth('0.1'));
    // 0.5 ≥ 3 × 0.1: waived.
    const waived = await eventually(
      () => client.senderInfo(sender.address),
      (i) => i.pendingTotal === eth('0.1'),
    );
    expect(waived.recipients[0]).toMatchObject({ pending: eth('0.1'), maxFloat: eth('0.5') });

    // 0.5 < 3 × 0.3 (over both recipients): deducted, per recipient.
    const second = await insertPending(s, r1, eth('0.2'));
    expect(await w.next((c) => c.maxFloat === eth('0.4'))).toMatchObject({ reason: 'PENDING' });
    const info = await client.senderInfo(sender.address);
    expect(info.recipients.map((r) => [r.pending, r.maxFloat])).toEqual([
      [eth('0.1'), eth('0.4')],
      [eth('0.2'), eth('0.3')],
    ]);

    // Redeemed, failed or expired tickets are no longer pending.
    await m.db.query(`UPDATE winning_ticket SET status = 'redeemed' WHERE ticket_hash = $1`, [first]);
    await m.db.query(`UPDATE winning_ticket SET status = 'failed' WHERE ticket_hash = $1`, [second]);
    await w.next((c) => c.maxFloat === eth('0.5'));
  });

  it('refuses unknown recipients and malformed addresses with typed errors', async () => {
    const sender = await fundedSender(0n, ETH);
    const stranger = (await m.fx.newAccount()).address;
    await expect(client.maxFloat(sender.address, stranger)).rejects.toMatchObject({
      code: SenderMonitorErrorCode.UNKNOWN_RECIPIENT,
    });
    await expect(client.senderInfo('0x1234')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // A mixed-case address must carry a valid EIP-55 checksum.
    const i = sender.address.slice(2).search(/[a-fA-F]/) + 2;
    const c = sender.address[i];
    const bad =
      sender.address.slice(0, i) +
      (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) +
      sender.address.slice(i + 1);
    await expect(client.validateSender(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

async function insertPending(sender: string, recipient: string, faceValue: bigint): Promise<string> {
  const hash = `0x${randomBytes(32).toString('hex')}`;
  await m.db.query(
    `INSERT INTO winning_ticket (ticket_hash, recipient, sender, face_value, win_prob, sender_nonce,
       recipient_rand_hash, creation_round, creation_round_block_hash, params_expiration_block, sig,
       recipient_rand, status)
     VALUES ($1, $2, $3, $4, 1, 1, $5, 1, $5, 100, $6, 1, 'queued')`,
    [
      hash,
      recipient,
      sender,
      faceValue.toString(),
      `0x${'00'.repeat(32)}`,
      `0x${randomBytes(65).toString('hex')}`,
    ],
  );
  return hash;
}
