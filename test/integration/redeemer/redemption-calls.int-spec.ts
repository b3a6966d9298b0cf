import { parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedemptionCalls } from '#app/chain';
import { toWinningTicketRow } from '#app/queue';
import type { SignedTicket } from '#app/ticket';
import { redeemDirectly, startRedeemerChain, type RedeemerChainFixture } from './redeemer-fixture.js';

/** RedemptionCalls.check (one eth_call with a gas limit) against anvil, next to the estimate it replaces. */
describe('RedemptionCalls.check', () => {
  let fx: RedeemerChainFixture;
  let calls: RedemptionCalls;

  beforeAll(async () => {
    fx = await startRedeemerChain();
    calls = new RedemptionCalls(
      fx.provider,
      fx.protocol.addresses.ticketBroker,
      fx.protocol.addresses.bondingManager,
    );
  });

  afterAll(async () => {
    await fx?.stop();
  });

  const check = (t: SignedTicket, gas: bigint) =>
    calls.check(fx.recipient.address, calls.brokerAddress, calls.encodeRedeem(toWinningTicketRow(t)), gas);

  it('completes within the estimated gas, is unclear below it, and states why a used ticket reverts', async () => {
    const sender = await fx.newSender(parseEther('1'));
    const t = await fx.ticket(sender, parseEther('0.01'));
    const sim = await calls.simulate(
      fx.recipient.address,
      calls.brokerAddress,
      calls.encodeRedeem(toWinningTicketRow(t)),
    );
    expect(sim.ok).toBe(true);
    const gas = sim.ok ? sim.gas : 0n;

    expect(await check(t, gas)).toEqual({ kind: 'ok' });
    // Out of gas (and under the intrinsic gas): only an estimate can tell, never a verdict.
    expect(await check(t, gas / 2n)).toEqual({ kind: 'unclear' });
    expect(await check(t, 21_000n)).toEqual({ kind: 'unclear' });

    await redeemDirectly(fx, t);
    const used = await check(t, gas);
    expect(used.kind).toBe('reverted');
    expect(used.kind === 'reverted' && used.error.revert?.reason).toBe('ticket is used');
  });
});
