import { parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WinningTicketStatus } from '#app/database';
import { InFlight } from '../../../apps/redeemer/src/redemption/in-flight.js';
import { startInProcessRedeemer, ticketRows, type InProcessRedeemer } from './in-process-redeemer.js';
import { hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';

/**
 * A sender's reserve is split among the pool's recipients, one share each per round, while its
 * deposit is shared by all: the TicketBroker pays a ticket from the deposit, and past it from its
 * own recipient's share. Tickets in flight to another recipient may use up the deposit, never
 * this recipient's share.
 */
describe("Redeemer: a recipient's reserve share", () => {
  let fx: RedeemerChainFixture;
  let redeemer: InProcessRedeemer;

  beforeAll(async () => {
    fx = await startRedeemerChain({}, { otherRecipients: 1 });
    redeemer = await startInProcessRedeemer(fx, `${inject('redisPrefix')}redeemer-reserve-share:`, {
      REDEEMER_BATCH_WINDOW_MS: '200',
    });
  });

  afterAll(async () => {
    await redeemer?.app.close();
    await fx?.stop();
  });

  it("is not counted against by another recipient's tickets in flight", async () => {
    const { until } = ticketRows(() => redeemer.tickets);
    // No deposit: every ticket is paid from its recipient's share of the reserve.
    const sender = await fx.newSender(0n, parseEther('2'));
    const share = await fx.broker.claimableReserve(sender.address, fx.recipient.address);
    expect(share).toBeGreaterThan(0n);
    // A ticket to the other recipient for its whole share is in a tx of this process.
    const other = await fx.ticket(sender, share, { recipient: fx.otherRecipients[0] });
    const inFlight = redeemer.app.get(InFlight);
    inFlight.hold('test:other-recipient', [
      {
        ticketHash: hashOf(other),
        sender: sender.address.toLowerCase(),
        recipient: fx.otherRecipients[0].address.toLowerCase(),
        faceValue: share,
      },
    ]);
    try {
      const mine = await fx.ticket(sender, share);
      const before = await fx.fees();
      await redeemer.intake.accept(mine);
      expect((await until(mine, WinningTicketStatus.REDEEMED)).statusReason).toBeNull();
      expect((await fx.fees()) - before).toBe(share);
    } finally {
      inFlight.release('test:other-recipient');
    }
  });
});
