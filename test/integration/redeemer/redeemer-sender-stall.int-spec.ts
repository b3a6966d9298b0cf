import { parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WinningTicketStatus } from '#app/database';
import { startJsonRpcProxy, type JsonRpcProxy } from '../../support/json-rpc-proxy.js';
import { startInProcessRedeemer, ticketRows, type InProcessRedeemer } from './in-process-redeemer.js';
import { eventually, hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';

const ETH = parseEther('1');
const FUNDS_TIMEOUT_MS = 1_500;

/**
 * Two Redeemers (different keys, disjoint recipients) redeem one sender's tickets. The first reads
 * the chain through a proxy that stops answering its funds reads of that sender (an RPC that hangs,
 * with a long RPC timeout): its funds check holds the sender's lock, and the second must get the
 * lock once REDEEMER_SENDER_FUNDS_TIMEOUT_MS has passed, not once the stuck read times out.
 */
describe('A Redeemer whose funds check hangs on a chain read', () => {
  let fx: RedeemerChainFixture;
  let proxy: JsonRpcProxy;
  let first: InProcessRedeemer | undefined;
  let second: InProcessRedeemer | undefined;

  beforeAll(async () => {
    fx = await startRedeemerChain({}, { otherRecipients: 1 });
    proxy = await startJsonRpcProxy(fx.anvil.url);
    const redisPrefix = `${inject('redisPrefix')}redeemer-sender-stall:`;
    first = await startInProcessRedeemer(fx, redisPrefix, {
      ETH_RPC_URL: proxy.url,
      ETH_RPC_TIMEOUT_MS: '120000',
      REDEEMER_SENDER_FUNDS_TIMEOUT_MS: String(FUNDS_TIMEOUT_MS),
    });
    const [other] = fx.otherRecipients;
    second = await startInProcessRedeemer(fx, redisPrefix, {
      REDEEMER_PRIVATE_KEY: other.privateKey,
      REDEEMER_RECIPIENTS: other.address,
    });
  });

  afterAll(async () => {
    proxy?.release();
    for (const r of [second, first]) await r?.app.close();
    await proxy?.stop();
    await fx?.stop();
  });

  it("lets another Redeemer check the sender once the bound has passed, and redeems the stuck one's ticket after the chain answers", async () => {
    const { row, until } = ticketRows(() => first!.tickets);
    const sender = await fx.newSender(ETH);
    const [other] = fx.otherRecipients;
    const mine = await fx.ticket(sender, ETH / 10n);
    const theirs = await fx.ticket(sender, ETH / 10n, { recipient: other });

    // getSenderInfo(sender): the first Redeemer's funds read of this sender never comes back.
    const selector = fx.broker.interface.getFunction('getSenderInfo')!.selector;
    const arg = sender.address.toLowerCase().slice(2);
    proxy.stall(
      (call) =>
        call.method === 'eth_call' &&
        JSON.stringify(call.params ?? [])
          .toLowerCase()
          .includes(`${selector}${'0'.repeat(24)}${arg}`),
    );
    await first!.intake.accept(mine);
    await eventually(() => Promise.resolve(proxy.stalled > 0 || undefined), 'the funds read to hang');

    const asked = Date.now();
    await second!.intake.accept(theirs);
    await until(theirs, WinningTicketStatus.REDEEMED);
    // Well before the stuck read's own timeout (120 s), a little after the bound.
    expect(Date.now() - asked).toBeLessThan(FUNDS_TIMEOUT_MS + 15_000);
    expect((await row(mine)).status).toBe(WinningTicketStatus.QUEUED);

    proxy.release();
    expect((await until(mine, WinningTicketStatus.REDEEMED)).statusReason).toBeNull();
    expect((await fx.redeemedHashes()).sort()).toEqual([hashOf(mine), hashOf(theirs)].sort());
  });
});
