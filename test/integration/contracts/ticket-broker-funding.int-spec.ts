import { parseEther } from 'ethers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONTRACT_IDS } from '#app/chain';
import {
  eventArgs,
  eventNames,
  makeTicket,
  mined,
  redeem,
  revertOf,
  startProtocol,
  type ProtocolFixture,
} from './protocol-fixture.js';

// Funding, unlock/cancel/withdraw, parameters and pausing (TICKETBROKER.md §3, §4.1, §4.2, §4.8, §7).

let fx: ProtocolFixture;
beforeAll(async () => {
  fx = await startProtocol();
});
afterAll(() => fx?.stop());
// A fresh round per test, so no test's own txs cross a round boundary (see TEST_ROUND_LENGTH).
beforeEach(async () => {
  await fx.nextRound();
});

const ETH = parseEther('1');

function balanceOf(address: string): Promise<bigint> {
  return fx.anvil.provider.getBalance(address);
}

describe('funding', () => {
  it('fundDeposit credits the deposit, parks the ETH in the Minter and emits DepositFunded', async () => {
    const sender = await fx.newAccount();
    const broker = fx.brokerAs(sender);
    const minterBefore = await balanceOf(fx.protocol.addresses.minter);
    const receipt = await mined(broker.fundDeposit({ value: ETH }));
    expect(eventNames(receipt, fx.broker)).toEqual(['DepositFunded']);
    const [args] = eventArgs(receipt, fx.broker, 'DepositFunded');
    expect([args.sender, args.amount]).toEqual([sender.address, ETH]);
    expect((await fx.broker.getSenderInfo(sender.address)).sender.deposit).toBe(ETH);
    expect(await balanceOf(fx.protocol.addresses.minter)).toBe(minterBefore + ETH);
    expect(await balanceOf(fx.protocol.addresses.ticketBroker)).toBe(0n);
  });

  it('fundReserve credits the reserve and emits ReserveFunded', async () => {
    const sender = await fx.newAccount();
    const receipt = await mined(fx.brokerAs(sender).fundReserve({ value: 2n * ETH }));
    expect(eventNames(receipt, fx.broker)).toEqual(['ReserveFunded']);
    const [args] = eventArgs(receipt, fx.broker, 'ReserveFunded');
    expect([args.reserveHolder, args.amount]).toEqual([sender.address, 2n * ETH]);
    const info = await fx.broker.getReserveInfo(sender.address);
    expect([info.fundsRemaining, info.claimedInCurrentRound]).toEqual([2n * ETH, 0n]);
  });

  it('fundDepositAndReserve splits msg.value, emits ReserveFunded then DepositFunded', async () => {
    const sender = await fx.newAccount();
    const broker = fx.brokerAs(sender);
    const receipt = await mined(broker.fundDepositAndReserve(ETH, 3n * ETH, { value: 4n * ETH }));
    expect(eventNames(receipt, fx.broker)).toEqual(['ReserveFunded', 'DepositFunded']);
    const info = await fx.broker.getSenderInfo(sender.address);
    expect([info.sender.deposit, info.sender.withdrawRound]).toEqual([ETH, 0n]);
    expect([info.reserve.fundsRemaining, info.reserve.claimedInCurrentRound]).toEqual([3n * ETH, 0n]);
  });

  it('fundDepositAndReserve(For) requires msg.value == deposit + reserve', async () => {
    const sender = await fx.newAccount();
    const broker = fx.brokerAs(sender);
    const message = 'msg.value does not equal sum of deposit amount and reserve amount';
    expect((await revertOf(broker.fundDepositAndReserve(1, 1, { value: 1 }))).reason).toBe(message);
    expect(
      (await revertOf(broker.fundDepositAndReserveFor(fx.owner.address, 1, 0, { value: 2 }))).reason,
    ).toBe(message);
  });

  it('accepts zero-value funding and still emits the events', async () => {
    const sender = await fx.newAccount();
    const broker = fx.brokerAs(sender);
    expect(eventNames(await mined(broker.fundDeposit()), fx.broker)).toEqual(['DepositFunded']);
    expect(eventNames(await mined(broker.fundReserve()), fx.broker)).toEqual(['ReserveFunded']);
    expect(
      eventNames(await mined(broker.fundDepositAndReserveFor(fx.owner.address, 0, 0)), fx.broker),
    ).toEqual(['ReserveFunded', 'DepositFunded']);
  });

  it('lets a third party fund someone else with fundDepositAndReserveFor', async () => {
    const [sender, funder] = [await fx.newAccount(), await fx.newAccount()];
    const receipt = await mined(
      fx.brokerAs(funder).fundDepositAndReserveFor(sender.address, ETH, ETH, { value: 2n * ETH }),
    );
    expect(eventArgs(receipt, fx.broker, 'DepositFunded')[0].sender).toBe(sender.address);
    expect(eventArgs(receipt, fx.broker, 'ReserveFunded')[0].reserveHolder).toBe(sender.address);
    const info = await fx.broker.getSenderInfo(sender.address);
    expect([info.sender.deposit, info.reserve.fundsRemaining]).toEqual([ETH, ETH]);
    expect((await fx.broker.getSenderInfo(funder.address)).sender.deposit).toBe(0n);
  });

  it('rejects plain ETH transfers (no receive/fallback)', async () => {
    const sender = await fx.newAccount();
    const revert = await revertOf(
      sender.sendTransaction({ to: fx.protocol.addresses.ticketBroker, value: 1 }),
    );
    expect(revert.data).toBe('0x');
  });
});

describe('own funding cancels an unlock, in the documented event orders', () => {
  async function unlockedSender() {
    const sender = await fx.newAccount();
    const broker = fx.brokerAs(sender);
    await mined(broker.fundDeposit({ value: ETH }));
    await mined(broker.unlock());
    expect(await fx.broker.isUnlockInProgress(sender.address)).toBe(true);
    return { sender, broker };
  }

  it('fundDeposit: UnlockCancelled, DepositFunded', async () => {
    const { sender, broker } = await unlockedSender();
    expect(eventNames(await mined(broker.fundDeposit({ value: 1 })), fx.broker)).toEqual([
      'UnlockCancelled',
      'DepositFunded',
    ]);
    expect(await fx.broker.isUnlockInProgress(sender.address)).toBe(false);
  });

  it('fundReserve: ReserveFunded, UnlockCancelled', async () => {
    const { sender, broker } = await unlockedSender();
    expect(eventNames(await mined(broker.fundReserve({ value: 1 })), fx.broker)).toEqual([
      'ReserveFunded',
      'UnlockCancelled',
    ]);
    expect(await fx.broker.isUnlockInProgress(sender.address)).toBe(false);
  });

  it('fundDepositAndReserve: UnlockCancelled, ReserveFunded, DepositFunded', async () => {
    const { sender, broker } = await unlockedSender();
    const receipt = await mined(broker.fundDepositAndReserve(1, 1, { value: 2 }));
    expect(eventNames(receipt, fx.broker)).toEqual(['UnlockCancelled', 'ReserveFunded', 'DepositFunded']);
    expect(eventArgs(receipt, fx.broker, 'UnlockCancelled')[0].sender).toBe(sender.address);
    expect(await fx.broker.isUnlockInProgress(sender.address)).toBe(false);
  });

  it('force-cancel fix: third-party funding never cancels the victim\u2019s unlock', async () => {
    const { sender: victim, broker } = await unlockedSender();
    const withdrawRound = (await fx.broker.getSenderInfo(victim.address)).sender.withdrawRound;
    const attacker = fx.brokerAs(await fx.newAccount());

    // The 2023 attack: fund the victim with 0 wei to reset its unlock, forever.
    const zero = await mined(attacker.fundDepositAndReserveFor(victim.address, 0, 0));
    expect(eventNames(zero, fx.broker)).toEqual(['ReserveFunded', 'DepositFunded']);
    // Real money from a third party is credited, but the unlock still stands.
    const real = await mined(
      attacker.fundDepositAndReserveFor(victim.address, ETH, ETH, { value: 2n * ETH }),
    );
    expect(eventNames(real, fx.broker)).toEqual(['ReserveFunded', 'DepositFunded']);
    const info = await fx.broker.getSenderInfo(victim.address);
    expect(info.sender.withdrawRound).toBe(withdrawRound);
    expect([info.sender.deposit, info.reserve.fundsRemaining]).toEqual([2n * ETH, ETH]);

    await fx.nextRound();
    await fx.nextRound();
    const before = await balanceOf(victim.address);
    const receipt = await mined(broker.withdraw());
    const [args] = eventArgs(receipt, fx.broker, 'Withdrawal');
    expect([args.sender, args.deposit, args.reserve]).toEqual([victim.address, 2n * ETH, ETH]);
    const gas = receipt.gasUsed * receipt.gasPrice;
    expect(await balanceOf(victim.address)).toBe(before + 3n * ETH - gas);
  });
});

describe('unlock, cancelUnlock, withdraw', () => {
  it('unlock sets withdrawRound = currentRound + unlockPeriod and emits Unlock', async () => {
    const sender = await fx.newAccount();
    const broker = fx.brokerAs(sender);
    expect((await revertOf(broker.unlock())).reason).toBe('sender deposit and reserve are zero');
    await mined(broker.fundReserve({ value: 1 }));
    const round = await fx.rounds.currentRound();
    const receipt = await mined(broker.unlock());
    const [args] = eventArgs(receipt, fx.broker, 'Unlock');
    expect([args.sender, args.startRound, args.endRound]).toEqual([sender.address, round, round + 2n]);
    expect((await fx.broker.getSenderInfo(sender.address)).sender.withdrawRound).toBe(round + 2n);
    expect((await revertOf(broker.unlock())).reason).toBe('unlock already initiated');
  });

  it('cancelUnlock clears the unlock and emits UnlockCancelled', async () => {
    const sender = await fx.newAccount();
    const broker = fx.brokerAs(sender);
    expect((await revertOf(broker.cancelUnlock())).reason).toBe('no unlock request in progress');
    await mined(broker.fundDeposit({ value: 1 }));
    await mined(broker.unlock());
    const receipt = await mined(broker.cancelUnlock());
    expect(eventNames(receipt, fx.broker)).toEqual(['UnlockCancelled']);
    expect(await fx.broker.isUnlockInProgress(sender.address)).toBe(false);
    expect((await revertOf(broker.cancelUnlock())).reason).toBe('no unlock request in progress');
  });

  it('withdraw checks funds, then an unlock, then the lock; pays both and keeps withdrawRound', async () => {
    const sender = await fx.newAccount();
    const broker = fx.brokerAs(sender);
    expect((await revertOf(broker.withdraw())).reason).toBe('sender deposit and reserve are zero');
    await mined(broker.fundDepositAndReserve(ETH, 2n * ETH, { value: 3n * ETH }));
    expect((await revertOf(broker.withdraw())).reason).toBe('no unlock request in progress');
    await mined(broker.unlock());
    expect((await revertOf(broker.withdraw())).reason).toBe('account is locked');
    await fx.nextRound();
    expect((await revertOf(broker.withdraw())).reason).toBe('account is locked');
    await fx.nextRound();

    const minterBefore = await balanceOf(fx.protocol.addresses.minter);
    const receipt = await mined(broker.withdraw());
    expect(eventNames(receipt, fx.broker)).toEqual(['Withdrawal']);
    const [args] = eventArgs(receipt, fx.broker, 'Withdrawal');
    expect([args.deposit, args.reserve]).toEqual([ETH, 2n * ETH]);
    expect(await balanceOf(fx.protocol.addresses.minter)).toBe(minterBefore - 3n * ETH);
    const info = await fx.broker.getSenderInfo(sender.address);
    expect([info.sender.deposit, info.reserve.fundsRemaining]).toEqual([0n, 0n]);
    // Mainnet quirk kept: the unlock stays "in progress" until the sender funds or cancels.
    expect(await fx.broker.isUnlockInProgress(sender.address)).toBe(true);
    expect((await revertOf(broker.withdraw())).reason).toBe('sender deposit and reserve are zero');
    expect(eventNames(await mined(broker.fundDeposit({ value: 1 })), fx.broker)).toEqual([
      'UnlockCancelled',
      'DepositFunded',
    ]);
  });

  it('with unlockPeriod 0 an unlock frees the funds in the same round', async () => {
    await mined(fx.broker.setUnlockPeriod(0));
    try {
      const sender = await fx.newAccount();
      const broker = fx.brokerAs(sender);
      await mined(broker.fundDeposit({ value: ETH }));
      const round = await fx.rounds.currentRound();
      const [args] = eventArgs(await mined(broker.unlock()), fx.broker, 'Unlock');
      expect([args.startRound, args.endRound]).toEqual([round, round]);
      expect(eventNames(await mined(broker.withdraw()), fx.broker)).toEqual(['Withdrawal']);
    } finally {
      await mined(fx.broker.setUnlockPeriod(2));
    }
  });

  it('stops paying a sender from the round its unlock ends: "sender is unlocked"', async () => {
    const sender = await fx.newAccount();
    const broker = fx.brokerAs(sender);
    await mined(broker.fundDeposit({ value: ETH }));
    await mined(broker.unlock());
    await fx.nextRound();
    // One round into the unlock, tickets are still paid.
    await mined(redeem(fx.broker, await makeTicket(fx, sender, fx.recipients[0].address, 1n)));
    await fx.nextRound();
    const late = await makeTicket(fx, sender, fx.recipients[0].address, 1n);
    expect((await revertOf(redeem(fx.broker, late))).reason).toBe('sender is unlocked');
  });
});

describe('parameters and controller', () => {
  it('setUnlockPeriod / setTicketValidityPeriod are Controller-owner only and emit ParameterUpdate', async () => {
    const stranger = fx.brokerAs(await fx.newAccount());
    expect((await revertOf(stranger.setUnlockPeriod(5))).reason).toBe('caller must be Controller owner');
    expect((await revertOf(stranger.setTicketValidityPeriod(5))).reason).toBe(
      'caller must be Controller owner',
    );
    expect((await revertOf(fx.broker.setTicketValidityPeriod(0))).reason).toBe(
      'ticketValidityPeriod must be greater than 0',
    );

    const unlock = await mined(fx.broker.setUnlockPeriod(7));
    expect(eventArgs(unlock, fx.broker, 'ParameterUpdate')[0].param).toBe('unlockPeriod');
    expect(await fx.broker.unlockPeriod()).toBe(7n);
    const validity = await mined(fx.broker.setTicketValidityPeriod(9));
    expect(eventArgs(validity, fx.broker, 'ParameterUpdate')[0].param).toBe('ticketValidityPeriod');
    expect(await fx.broker.ticketValidityPeriod()).toBe(9n);
    await mined(fx.broker.setUnlockPeriod(2));
    await mined(fx.broker.setTicketValidityPeriod(2));
  });

  it('setController is Controller-only', async () => {
    expect((await revertOf(fx.broker.setController(fx.owner.address))).reason).toBe(
      'caller must be Controller',
    );
  });

  it('pausing blocks all 8 state-changing user functions but not views or admin setters', async () => {
    const sender = await fx.newAccount();
    const broker = fx.brokerAs(sender);
    await mined(broker.fundDeposit({ value: ETH }));
    const ticket = await makeTicket(fx, sender, fx.recipients[0].address, 1n);
    await mined(fx.controller.pause());
    try {
      const blocked = [
        () => broker.fundDeposit({ value: 1 }),
        () => broker.fundReserve({ value: 1 }),
        () => broker.fundDepositAndReserve(0, 0),
        () => broker.fundDepositAndReserveFor(sender.address, 0, 0),
        () => redeem(broker, ticket),
        () => broker.batchRedeemWinningTickets([ticket.ticket], [ticket.sig], [ticket.recipientRand]),
        () => broker.unlock(),
        () => broker.cancelUnlock(),
        () => broker.withdraw(),
      ];
      for (const call of blocked) expect((await revertOf(call())).reason).toBe('system is paused');
      expect((await fx.broker.getSenderInfo(sender.address)).sender.deposit).toBe(ETH);
      expect(await fx.broker.claimableReserve(sender.address, fx.recipients[0].address)).toBe(0n);
      await mined(fx.broker.setUnlockPeriod(2));
    } finally {
      await mined(fx.controller.unpause());
    }
    await mined(redeem(broker, ticket));
  });

  it('needs the broker registered as "JobsManager" to move ETH through the Minter', async () => {
    const sender = await fx.newAccount();
    const broker = fx.brokerAs(sender);
    await mined(broker.fundDeposit({ value: ETH }));
    await mined(broker.unlock());
    await fx.nextRound();
    await fx.nextRound();
    await fx.withContract(CONTRACT_IDS.JobsManager, fx.owner.address, async () => {
      expect((await revertOf(broker.fundDeposit({ value: 1 }))).reason).toBe(
        'msg.sender not Minter or JobsManager',
      );
      expect((await revertOf(broker.withdraw())).reason).toBe('msg.sender not BondingManager or JobsManager');
    });
    await mined(broker.withdraw());
  });

  it('round-dependent views revert without data when no RoundsManager is registered', async () => {
    const sender = fx.owner.address;
    const zero = `0x${'00'.repeat(20)}`;
    await fx.withContract(CONTRACT_IDS.RoundsManager, zero, async () => {
      for (const view of [
        () => fx.broker.getSenderInfo(sender),
        () => fx.broker.getReserveInfo(sender),
        () => fx.broker.claimedReserve(sender, sender),
        () => fx.broker.claimableReserve(sender, sender),
      ]) {
        const revert = await revertOf(view());
        expect([revert.reason, revert.panic, revert.data]).toEqual([undefined, undefined, '0x']);
      }
      // Views that do not need a round keep working.
      expect(await fx.broker.isUnlockInProgress(sender)).toBe(false);
    });
  });
});
