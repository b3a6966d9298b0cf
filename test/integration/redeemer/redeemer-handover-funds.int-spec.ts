import { randomBytes } from 'node:crypto';
import { Wallet, hexlify, parseEther, toQuantity } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WinningTicketStatus, type WinningTicketEntity } from '#app/database';
import type { SignedTicket } from '#app/ticket';
import { RedemptionCode } from '../../../apps/redeemer/src/redemption/redemption-code.js';
import { startInProcessRedeemer, ticketRows, type InProcessRedeemer } from './in-process-redeemer.js';
import { eventually, hashOf, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';

const ETH = parseEther('1');

/**
 * Redeemer A stops with a tx in flight; Redeemer B (another key) takes its recipient over. A's tx
 * may still be mined, so B counts its tickets against the sender's funds (from Postgres, whoever
 * signed) until the chain has paid them: B never sends a tx that pays short meanwhile. anvil does
 * not mine on its own here, so A's tx stays pending as long as the test says.
 */
describe('Redeemer handover with a tx in flight', () => {
  let fx: RedeemerChainFixture;
  let redisPrefix: string;
  let first: InProcessRedeemer | undefined;
  let second: InProcessRedeemer | undefined;

  beforeAll(async () => {
    fx = await startRedeemerChain();
    redisPrefix = `${inject('redisPrefix')}redeemer-handover-funds:`;
    first = await startInProcessRedeemer(fx, redisPrefix, {});
  });

  afterAll(async () => {
    await fx?.provider.send('evm_setAutomine', [true]).catch(() => undefined);
    for (const r of [second, first]) await r?.app.close();
    await fx?.stop();
  });

  it("counts the previous holder's unsettled tickets against the sender's funds until paid", async () => {
    const { until } = ticketRows(() => (second ?? first)!.tickets);
    /** The ticket's row once it stops being queued without `reason`. */
    const settledOn = (t: SignedTicket, reason: RedemptionCode) =>
      eventually(
        async (): Promise<WinningTicketEntity | undefined> => {
          const row = await (second ?? first)!.tickets.findByHash(hashOf(t));
          return row && (row.status !== WinningTicketStatus.QUEUED || row.statusReason === reason)
            ? row
            : undefined;
        },
        `ticket ${hashOf(t)} to wait with ${reason}`,
      );
    const sender = await fx.newSender(ETH);
    const otherSigner = new Wallet(hexlify(randomBytes(32)), fx.provider);
    await fx.provider.send('anvil_setBalance', [otherSigner.address, toQuantity(parseEther('100'))]);

    // A sends its tx for 0.6 of the sender's 1 ETH; it stays pending, and A stops.
    await fx.provider.send('evm_setAutomine', [false]);
    const before = await fx.ticket(sender, (ETH * 6n) / 10n);
    await first!.intake.accept(before);
    await until(before, WinningTicketStatus.SUBMITTED);
    await first!.app.close();
    first = undefined;

    second = await startInProcessRedeemer(fx, redisPrefix, {
      REDEEMER_PRIVATE_KEY: otherSigner.privateKey,
      REDEEMER_RECIPIENTS: fx.recipient.address,
    });
    // B's ticket of 0.6 would pay short if both were mined: it waits for A's tx instead.
    const after = await fx.ticket(sender, (ETH * 6n) / 10n);
    await second.intake.accept(after);
    const busy = await settledOn(after, RedemptionCode.SENDER_BUSY);
    expect({ status: busy.status, reason: busy.statusReason }).toEqual({
      status: WinningTicketStatus.QUEUED,
      reason: RedemptionCode.SENDER_BUSY,
    });

    // A's tx mined (A is gone; B settles it for A, see redeemer-foreign-tx): the chain paid it, so only the
    // 0.4 left count now, short of 0.6.
    await fx.provider.send('evm_setAutomine', [true]);
    await fx.mine(1);
    expect(await fx.redeemedHashes()).toContain(hashOf(before));
    const short = await settledOn(after, RedemptionCode.INSUFFICIENT_FUNDS);
    expect(short.status).toBe(WinningTicketStatus.QUEUED);

    // Topped up, it is redeemed in full.
    await fx.fundDeposit(sender, ETH / 2n);
    const redeemed = await until(after, WinningTicketStatus.REDEEMED);
    expect(redeemed.statusReason).not.toBe(RedemptionCode.UNDERPAID);
  });
});
