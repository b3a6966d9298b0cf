import { randomBytes } from 'node:crypto';
import { parseEther, type Wallet } from 'ethers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RemoteSenderMonitor, type MaxFloatChange } from '#app/clients';
import {
  NEW_WINNERS_ALL_SENDERS,
  NEW_WINNERS_CHANNEL,
  WinningTicketRepository,
  type NewWinningTicket,
} from '#app/database';
import { toWinningTicketRow, WinningTicketIntake } from '#app/queue';
import { NewWinnersListener } from '../../../apps/sender-monitor/src/monitor/new-winners-listener.js';
import { mined } from '../contracts/protocol-fixture.js';
import { eventually, Recorder, startMonitor, winningTicket, type MonitorUnderTest } from './harness.js';

// A winner the Recipient's intake stores lowers the sender's max float at once (Postgres NOTIFY
// from the intake's INSERT, LISTENed to by the SenderMonitor), not at the next pending poll: the
// poll is set to a minute here, so only the notification can move it within the test's second.

const eth = (s: string) => parseEther(s);
const POLL_MS = 60_000;
/** Well under the poll interval. */
const PROMPT_MS = 1_000;

let m: MonitorUnderTest;
let client: RemoteSenderMonitor;
let intake: WinningTicketIntake;
let listener: NewWinnersListener;
let r0: string;
const recorders: Recorder<MaxFloatChange>[] = [];

beforeAll(async () => {
  m = await startMonitor('new-winners', { SENDER_MONITOR_POLL_INTERVAL_MS: String(POLL_MS) });
  client = new RemoteSenderMonitor({ target: m.grpcUrl });
  // The intake the Recipient runs: the same INSERT, and the monitor is not told of it otherwise.
  intake = m.nest.get(WinningTicketIntake, { strict: false });
  listener = m.nest.get(NewWinnersListener, { strict: false });
  r0 = m.fx.recipients[0].address.toLowerCase();
});
afterAll(async () => {
  for (const r of recorders) r.close();
  client?.close();
  await m?.stop();
});

/** A sender with `reserve` and no deposit (pending is never waived), as the monitor sees it. */
async function fundedSender(reserve: bigint): Promise<Wallet> {
  const sender = await m.fx.newAccount();
  await mined(m.fx.brokerAs(sender).fundReserve({ value: reserve }));
  // The chain poll is as slow as the pending one: apply the funding now.
  await m.watcher.tick();
  return sender;
}

function watch(sender: Wallet): Recorder<MaxFloatChange> {
  const r = new Recorder(client.changes(sender.address, r0));
  recorders.push(r);
  return r;
}

async function listening(): Promise<number> {
  return (await eventually(
    () => Promise.resolve(listener.backendPid()),
    (pid) => pid !== undefined,
  ))!;
}

async function storeWinner(sender: Wallet, faceValue: bigint): Promise<void> {
  const [result] = await intake.acceptAll([await winningTicket(m.fx, sender, r0, faceValue)]);
  expect(result.stored).toBe(true);
}

describe('sender-monitor: new winners move max float at once', () => {
  it("a winner stored by the intake lowers the sender's max float well before the next poll", async () => {
    await listening();
    const sender = await fundedSender(eth('1'));
    const w = watch(sender);
    expect(await w.next()).toMatchObject({ reason: 'INITIAL', maxFloat: eth('0.5') });
    // The Recipient's RemoteSenderMonitor follows the stream from its first MaxFloat on.
    expect(await client.maxFloat(sender.address, r0)).toBe(eth('0.5'));

    const storedAt = Date.now();
    await storeWinner(sender, eth('0.2'));
    const change = await w.next((c) => c.maxFloat === eth('0.3'), PROMPT_MS);
    expect(change.reason).toBe('PENDING');
    // What the Recipient's TicketParams read: its cache, kept by a stream of its own.
    await eventually(
      () => client.maxFloat(sender.address, r0),
      (v) => v === eth('0.3'),
      PROMPT_MS,
    );
    expect(Date.now() - storedAt).toBeLessThan(PROMPT_MS);

    // A second winner in one intake group with another sender's: one notification for both.
    const other = await fundedSender(eth('1'));
    const wo = watch(other);
    await wo.next((c) => c.maxFloat === eth('0.5'));
    await intake.acceptAll([
      await winningTicket(m.fx, sender, r0, eth('0.1')),
      await winningTicket(m.fx, other, r0, eth('0.25')),
    ]);
    await w.next((c) => c.maxFloat === eth('0.2'), PROMPT_MS);
    await wo.next((c) => c.maxFloat === eth('0.25'), PROMPT_MS);
  });

  it('listens again after its connection is terminated, and re-reads what it missed meanwhile', async () => {
    const pid = await listening();
    const sender = await fundedSender(eth('1'));
    const w = watch(sender);
    await w.next((c) => c.maxFloat === eth('0.5'));

    await m.db.query('SELECT pg_terminate_backend($1)', [pid]);
    await eventually(
      () => Promise.resolve(listener.backendPid()),
      (p) => p !== pid,
    );
    // Stored while no one listens (or just as it listens again): the reconnection re-reads it.
    await storeWinner(sender, eth('0.1'));
    await w.next((c) => c.maxFloat === eth('0.4'), 5_000);

    const again = await listening();
    expect(again).not.toBe(pid);
    const storedAt = Date.now();
    await storeWinner(sender, eth('0.15'));
    await w.next((c) => c.maxFloat === eth('0.25'), PROMPT_MS);
    expect(Date.now() - storedAt).toBeLessThan(PROMPT_MS);
  });
});

describe('the INSERT of new winners notifies', () => {
  let repo: WinningTicketRepository;
  let sub: pg.Client;
  const payloads: string[] = [];

  beforeAll(async () => {
    repo = m.nest.get(WinningTicketRepository, { strict: false });
    sub = new pg.Client({ connectionString: inject('databaseUrl') });
    await sub.connect();
    sub.on('notification', (n) => payloads.push(n.payload ?? ''));
    await sub.query(`LISTEN ${NEW_WINNERS_CHANNEL}`);
  });
  afterAll(async () => {
    await sub?.end();
  });

  /** A row of a random sender and recipient (nothing on chain needs it). */
  function row(sender = `0x${randomBytes(20).toString('hex')}`): NewWinningTicket {
    return toWinningTicketRow({
      recipient: randomBytes(20),
      sender: Buffer.from(sender.slice(2), 'hex'),
      faceValue: 1_000n,
      winProb: 1n << 255n,
      senderNonce: 1,
      recipientRandHash: randomBytes(32),
      creationRound: 1n,
      creationRoundBlockHash: randomBytes(32),
      paramsExpirationBlock: 100n,
      sig: randomBytes(65),
      recipientRand: 7n,
    });
  }

  /** The payloads notified by `write` (committed when it returns), with time to arrive. */
  async function received(write: () => Promise<unknown>): Promise<string[]> {
    payloads.length = 0;
    await write();
    await sub.query('SELECT 1');
    await new Promise((r) => setTimeout(r, 100));
    return [...payloads];
  }

  it('once per statement, with the distinct senders of the rows it inserted; not for rows stored before', async () => {
    const a = `0x${randomBytes(20).toString('hex')}`;
    const b = `0x${randomBytes(20).toString('hex')}`;
    const rows = [row(a), row(b), row(a), row(a)];
    const [payload, ...more] = await received(() => repo.insertAllIfAbsent(rows));
    expect(more).toEqual([]);
    expect(payload.split(',').sort()).toEqual([a, b].sort());

    // Only counted again: nothing new is pending.
    expect(await received(() => repo.insertAllIfAbsent(rows))).toEqual([]);
    // A new row among old ones: only its sender.
    const c = `0x${randomBytes(20).toString('hex')}`;
    expect(await received(() => repo.insertAllIfAbsent([...rows, row(c)]))).toEqual([c]);
  });

  it('marks "every sender" when the senders would not fit a notification, and the monitor re-reads them', async () => {
    const sender = await fundedSender(eth('1'));
    const w = watch(sender);
    await w.next((c) => c.maxFloat === eth('0.5'));
    const ticket = toWinningTicketRow(await winningTicket(m.fx, sender, r0, eth('0.1')));
    // 200 senders of 42 characters and their commas: past the 8000 bytes of a NOTIFY payload.
    const rows = [ticket, ...Array.from({ length: 199 }, () => row())];
    expect(await received(() => repo.insertAllIfAbsent(rows))).toEqual([NEW_WINNERS_ALL_SENDERS]);
    await w.next((c) => c.maxFloat === eth('0.4'), PROMPT_MS);
  });
});
