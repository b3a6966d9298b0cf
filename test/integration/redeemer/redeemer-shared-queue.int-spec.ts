import { parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WinningTicketStatus } from '#app/database';
import { RedemptionQueue } from '#app/queue';
import type { SignedTicket } from '#app/ticket';
import { startInProcessRedeemer, ticketRows, type InProcessRedeemer } from './in-process-redeemer.js';
import { hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';

const ETH = parseEther('1');
const PER_RECIPIENT = 6;
/** No reconciler pass after the first: a job that went missing or failed stays so. */
const NO_RECONCILE = { REDEEMER_RECONCILE_INTERVAL_MS: '86400000' };

/**
 * Two Redeemers with different keys serving disjoint recipients under one REDIS_PREFIX share one
 * redemption queue: each takes jobs of the other's recipients too. Such a job is left for its
 * owner, never failed, so every winner is redeemed by its own Redeemer without waiting for a
 * reconciler pass (here there is none after the first).
 */
describe('Redeemers with disjoint recipients on one queue', () => {
  let fx: RedeemerChainFixture;
  let first: InProcessRedeemer | undefined;
  let second: InProcessRedeemer | undefined;

  beforeAll(async () => {
    fx = await startRedeemerChain({}, { otherRecipients: 1 });
    const redisPrefix = `${inject('redisPrefix')}redeemer-shared-queue:`;
    first = await startInProcessRedeemer(fx, redisPrefix, NO_RECONCILE);
    const [other] = fx.otherRecipients;
    second = await startInProcessRedeemer(fx, redisPrefix, {
      ...NO_RECONCILE,
      REDEEMER_PRIVATE_KEY: other.privateKey,
      REDEEMER_RECIPIENTS: other.address,
    });
  });

  afterAll(async () => {
    for (const r of [second, first]) await r?.app.close();
    await fx?.stop();
  });

  it("redeems each recipient's winners with its own Redeemer, no job failed", async () => {
    const { until } = ticketRows(() => first!.tickets);
    const sender = await fx.newSender(10n * ETH);
    const [other] = fx.otherRecipients;
    const owners = new Map<SignedTicket, string>();
    for (let i = 0; i < PER_RECIPIENT; i++) {
      owners.set(await fx.ticket(sender, ETH / 100n), fx.recipient.address.toLowerCase());
      owners.set(await fx.ticket(sender, ETH / 100n, { recipient: other }), other.address.toLowerCase());
    }
    // Through both intakes: where a ticket comes in says nothing of who redeems it.
    await Promise.all([...owners.keys()].map((t, i) => (i % 2 ? second! : first!).intake.accept(t)));

    for (const t of owners.keys()) await until(t, WinningTicketStatus.REDEEMED);
    for (const [t, signer] of owners) {
      const signers = await first!.ds.query<{ signer: string }[]>(
        `SELECT DISTINCT signer FROM chain_tx WHERE $1 = ANY(refs)`,
        [hashOf(t)],
      );
      expect(signers).toEqual([{ signer }]);
    }
    expect(await first!.app.get(RedemptionQueue).counts(['failed'])).toEqual({ failed: 0 });
  });
});
