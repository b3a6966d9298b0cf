import { parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WinningTicketStatus, type WinningTicketEntity } from '#app/database';
import { RedemptionCode } from '../../../apps/redeemer/src/redemption/redemption-code.js';
import { startInProcessRedeemer, ticketRows, type InProcessRedeemer } from './in-process-redeemer.js';
import { eventually, hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';

const ETH = parseEther('1');

/**
 * Two Redeemers (different keys, disjoint recipients) check one sender's funds at the same time:
 * its 1 ETH deposit covers one of its two 0.6 ETH winners, one per recipient. The first Redeemer
 * is held by the test between its funds check and its claim (a hook on its repository's
 * claimAll); the second's check must not pass meanwhile, or both txs go out and one pays short.
 * Then it is held with its winner claimed, its tx not stored yet: the second's check counts it.
 */
describe('Two Redeemers checking one sender at once', () => {
  let fx: RedeemerChainFixture;
  let first: InProcessRedeemer | undefined;
  let second: InProcessRedeemer | undefined;

  beforeAll(async () => {
    fx = await startRedeemerChain({}, { otherRecipients: 1 });
    const redisPrefix = `${inject('redisPrefix')}redeemer-sender-race:`;
    first = await startInProcessRedeemer(fx, redisPrefix, {});
    const [other] = fx.otherRecipients;
    second = await startInProcessRedeemer(fx, redisPrefix, {
      REDEEMER_PRIVATE_KEY: other.privateKey,
      REDEEMER_RECIPIENTS: other.address,
    });
  });

  afterAll(async () => {
    for (const g of gates) g.open();
    for (const r of [second, first]) await r?.app.close();
    await fx?.stop();
  });

  it('redeems one winner in full and keeps the other waiting, never paying short', async () => {
    const { row, until } = ticketRows(() => first!.tickets);
    const sender = await fx.newSender(ETH);
    const [other] = fx.otherRecipients;
    const mine = await fx.ticket(sender, (ETH * 6n) / 10n);
    const theirs = await fx.ticket(sender, (ETH * 6n) / 10n, { recipient: other });

    // The first Redeemer stops at the claim of `mine` (its funds check done), then again before
    // its tx is stored (`mine` claimed, not sent), each time until the test opens the gate.
    const atClaim = gate(hashOf(mine));
    const atSend = gate(hashOf(mine));
    const repo = first!.tickets;
    const claimAll = repo.claimAll.bind(repo);
    const markAllSubmitted = repo.markAllSubmitted.bind(repo);
    repo.claimAll = async (hashes) => {
      await atClaim.pass(hashes);
      return claimAll(hashes);
    };
    repo.markAllSubmitted = async (hashes, txHash) => {
      await atSend.pass(hashes);
      return markAllSubmitted(hashes, txHash);
    };

    await first!.intake.accept(mine);
    await atClaim.reached;
    await second!.intake.accept(theirs);
    // The second Redeemer either sends (the race) or waits for the first's check to end.
    const race = await eventually(async (): Promise<string | undefined> => {
      const r = await row(theirs);
      if (r.status !== WinningTicketStatus.QUEUED) return r.status;
      const waiting = await first!.ds.query<unknown[]>(
        `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      return waiting.length > 0 ? 'waiting' : undefined;
    }, 'the second Redeemer to send or wait');
    atClaim.open();
    expect(race).toBe('waiting');

    // `mine` claimed but its tx not stored yet: the second check counts it, so `theirs` waits.
    await atSend.reached;
    const busy = await eventually(async (): Promise<WinningTicketEntity | undefined> => {
      const r = await row(theirs);
      return r.status !== WinningTicketStatus.QUEUED || r.statusReason === RedemptionCode.SENDER_BUSY
        ? r
        : undefined;
    }, 'the second winner to wait for the first');
    expect({ status: busy.status, reason: busy.statusReason }).toEqual({
      status: WinningTicketStatus.QUEUED,
      reason: RedemptionCode.SENDER_BUSY,
    });
    expect((await row(mine)).status).toBe(WinningTicketStatus.SUBMITTING);
    atSend.open();

    const redeemed = await until(mine, WinningTicketStatus.REDEEMED);
    expect(redeemed.statusReason).not.toBe(RedemptionCode.UNDERPAID);
    expect(await fx.redeemedHashes()).toEqual([hashOf(mine)]);
    expect((await row(theirs)).status).toBe(WinningTicketStatus.QUEUED);
  });
});

const gates: Gate[] = [];

/** Where a hooked repository call waits when its tickets include `ticketHash`, until `open`. */
interface Gate {
  /** Resolves once a call with the ticket has come. */
  reached: Promise<void>;
  open(): void;
  /** What the hooked call awaits before it goes on. */
  pass(hashes: readonly string[]): Promise<void>;
}

function gate(ticketHash: string): Gate {
  let reach!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const g: Gate = {
    reached,
    open,
    pass: async (hashes) => {
      if (!hashes.includes(ticketHash)) return;
      reach();
      await opened;
    },
  };
  gates.push(g);
  return g;
}
