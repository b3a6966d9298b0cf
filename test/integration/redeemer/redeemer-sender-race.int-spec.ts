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
    for (const r of [second, first]) await r?.app.close();
    await fx?.stop();
  });

  it('redeems one winner in full and keeps the other waiting, never paying short', async () => {
    const { row, until } = ticketRows(() => first!.tickets);
    const sender = await fx.newSender(ETH);
    const [other] = fx.otherRecipients;
    const mine = await fx.ticket(sender, (ETH * 6n) / 10n);
    const theirs = await fx.ticket(sender, (ETH * 6n) / 10n, { recipient: other });

    // The first Redeemer stops at the claim of `mine`, its funds check done, until `go`.
    let reached!: () => void;
    const atClaim = new Promise<void>((r) => (reached = r));
    let go!: () => void;
    const gate = new Promise<void>((r) => (go = r));
    const repo = first!.tickets;
    const claimAll = repo.claimAll.bind(repo);
    repo.claimAll = async (hashes) => {
      if (hashes.includes(hashOf(mine))) {
        reached();
        await gate;
      }
      return claimAll(hashes);
    };

    await first!.intake.accept(mine);
    await atClaim;
    await second!.intake.accept(theirs);
    // The second Redeemer either sends (the race) or waits for the first's check to end.
    const race = await eventually(async (): Promise<string | undefined> => {
      const r = await row(theirs);
      if (r.status !== WinningTicketStatus.QUEUED) return r.status;
      const waiting = await first!.ds.query<unknown[]>(
        `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
      );
      return waiting.length > 0 ? 'waiting' : undefined;
    }, 'the second Redeemer to send or wait');
    go();
    expect(race).toBe('waiting');

    const redeemed = await until(mine, WinningTicketStatus.REDEEMED);
    expect(redeemed.statusReason).not.toBe(RedemptionCode.UNDERPAID);
    const waits: (string | null)[] = [RedemptionCode.SENDER_BUSY, RedemptionCode.INSUFFICIENT_FUNDS];
    const held = await eventually(async (): Promise<WinningTicketEntity | undefined> => {
      const r = await row(theirs);
      return r.status !== WinningTicketStatus.QUEUED || waits.includes(r.statusReason) ? r : undefined;
    }, 'the second winner to wait for funds');
    expect(held.status).toBe(WinningTicketStatus.QUEUED);
    expect(await fx.redeemedHashes()).toEqual([hashOf(mine)]);
  });
});
