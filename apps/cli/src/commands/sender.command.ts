import { ContractRevert, ticketBrokerAt, type TicketBrokerContract } from '#app/chain';
import { isSenderLocked } from '#app/ticket';
import { formatEth, parseAmount } from '../amount.js';
import { CHAIN_OPTIONS, SIGNER_OPTIONS, TX_OPTIONS, type Args } from '../args.js';
import { onChain, type RevertExplainer } from '../chain-errors.js';
import { usageError } from '../cli.error.js';
import type { Command, CommandGroup, CommandResult } from '../command.js';
import { parseAddressArg, type CommandContext, type Protocol } from '../context.js';
import { fieldLines } from '../output.js';
import { sendAndConfirm, txJson, type ConfirmedTx } from '../transactions.js';

const TX_COMMAND_OPTIONS = { ...CHAIN_OPTIONS, ...SIGNER_OPTIONS, ...TX_OPTIONS };

type UnlockState = 'none' | 'pending' | 'unlocked';

interface SenderState {
  address: string;
  deposit: bigint;
  reserve: bigint;
  claimedInCurrentRound: bigint;
  /** 0 when no unlock was ever started (or it was cancelled). */
  withdrawRound: bigint;
  currentRound: bigint;
  unlock: UnlockState;
}

/** The sender's funds and unlock as the TicketBroker sees them (at `blockTag`, default latest). */
async function readSender(protocol: Protocol, address: string, blockTag?: number): Promise<SenderState> {
  const at = blockTag === undefined ? {} : { blockTag };
  const [info, currentRound] = await onChain(
    Promise.all([protocol.broker.getSenderInfo(address, at), protocol.rounds.currentRound(at)]),
  );
  const withdrawRound = info.sender.withdrawRound;
  return {
    address,
    deposit: info.sender.deposit,
    reserve: info.reserve.fundsRemaining,
    claimedInCurrentRound: info.reserve.claimedInCurrentRound,
    withdrawRound,
    currentRound,
    unlock: unlockState(withdrawRound, currentRound),
  };
}

/** No unlock; one in progress (still locked, tickets redeemable); or past its withdraw round. */
function unlockState(withdrawRound: bigint, currentRound: bigint): UnlockState {
  if (withdrawRound === 0n) return 'none';
  return isSenderLocked({ withdrawRound }, currentRound) ? 'pending' : 'unlocked';
}

function describeUnlock(s: SenderState): string {
  switch (s.unlock) {
    case 'none':
      return 'none (funds locked, tickets redeemable)';
    case 'pending':
      return `in progress until round ${s.withdrawRound} (current round ${s.currentRound})`;
    case 'unlocked':
      return s.deposit + s.reserve > 0n
        ? `unlocked since round ${s.withdrawRound}: withdraw is possible, tickets are no longer redeemable`
        : `unlocked since round ${s.withdrawRound}; nothing left to withdraw`;
  }
}

/** Revert reasons restated with the sender's rounds, read right after the refusal. */
function senderExplainer(protocol: Protocol, address: string, action: string): RevertExplainer {
  return async (reason) => {
    switch (reason) {
      case ContractRevert.ACCOUNT_LOCKED: {
        const s = await readSender(protocol, address);
        return `unlock in progress until round ${s.withdrawRound} (current round ${s.currentRound}): withdraw is possible from round ${s.withdrawRound}`;
      }
      case ContractRevert.UNLOCK_INITIATED: {
        const s = await readSender(protocol, address);
        return s.unlock === 'pending'
          ? `unlock already in progress until round ${s.withdrawRound} (current round ${s.currentRound})`
          : `the unlock completed at round ${s.withdrawRound}: withdraw, or cancel-unlock to keep the funds in use`;
      }
      case ContractRevert.NO_UNLOCK:
        return action === 'cancel-unlock'
          ? 'no unlock in progress: nothing to cancel'
          : 'no unlock in progress: run `ticketpay sender unlock` first and wait for the unlock period';
      case ContractRevert.NO_DEPOSIT_OR_RESERVE:
        return `nothing to ${action}: the sender's deposit and reserve are both zero`;
      default:
        return undefined;
    }
  };
}

interface SignedSender {
  protocol: Protocol;
  address: string;
  broker: TicketBrokerContract;
}

async function signedSender(ctx: CommandContext): Promise<SignedSender> {
  const [protocol, signer] = await Promise.all([ctx.protocol(), ctx.signer()]);
  return {
    protocol,
    address: signer.address,
    broker: ticketBrokerAt(protocol.addresses.ticketBroker, signer),
  };
}

function positiveAmount(args: Args): bigint {
  const amount = parseAmount(args.positionals[0], 'amount');
  if (amount === 0n) throw usageError('the amount must be greater than zero');
  return amount;
}

function result(
  sender: string,
  tx: ConfirmedTx,
  state: SenderState,
  summary: string,
  extra: Record<string, unknown> = {},
): CommandResult {
  return {
    data: { sender, ...extra, ...txJson(tx), state: stateJson(state) },
    human: [
      `${summary} (tx ${tx.txHash}, block ${tx.blockNumber})`,
      ...fieldLines([
        ['deposit', formatEth(state.deposit)],
        ['reserve', formatEth(state.reserve)],
        ['unlock', describeUnlock(state)],
      ]),
    ],
  };
}

function stateJson(s: SenderState): Record<string, unknown> {
  return {
    deposit: s.deposit,
    reserve: { fundsRemaining: s.reserve, claimedInCurrentRound: s.claimedInCurrentRound },
    withdrawRound: s.withdrawRound,
    currentRound: s.currentRound,
    unlock: s.unlock,
  };
}

function fundCommand(name: string, what: 'deposit' | 'reserve'): Command {
  return {
    name,
    summary: `add ETH to the signer's ${what} (cancels the signer's own unlock)`,
    usage: '<amount>',
    details: ['Amounts: 1.5eth, 0.25ether, 1500000000gwei, 42wei; a bare integer is wei.'],
    options: TX_COMMAND_OPTIONS,
    positionals: { min: 1, max: 1 },
    async run(ctx, args) {
      const amount = positiveAmount(args);
      const { protocol, address, broker } = await signedSender(ctx);
      const tx = await sendAndConfirm(ctx, `fund ${what}`, () =>
        what === 'deposit' ? broker.fundDeposit({ value: amount }) : broker.fundReserve({ value: amount }),
      );
      const state = await readSender(protocol, address, tx.blockNumber);
      return result(address, tx, state, `added ${formatEth(amount)} to the ${what}`, { amount });
    },
  };
}

/** A sender transaction without arguments, answered with the sender's state after it. */
function stateChangeCommand(
  name: string,
  summary: string,
  send: (broker: TicketBrokerContract) => ReturnType<TicketBrokerContract['unlock']>,
  describe: (state: SenderState) => string,
): Command {
  return {
    name,
    summary,
    options: TX_COMMAND_OPTIONS,
    positionals: { min: 0, max: 0 },
    async run(ctx) {
      const { protocol, address, broker } = await signedSender(ctx);
      const tx = await sendAndConfirm(
        ctx,
        name.replace('-', ' '),
        () => send(broker),
        senderExplainer(protocol, address, name),
      );
      const state = await readSender(protocol, address, tx.blockNumber);
      return result(address, tx, state, describe(state));
    },
  };
}

export const senderCommands: CommandGroup = {
  name: 'sender',
  summary: "manage a sender's TicketBroker deposit and reserve",
  commands: [
    fundCommand('fund-deposit', 'deposit'),
    fundCommand('fund-reserve', 'reserve'),
    stateChangeCommand(
      'unlock',
      'start the unlock period, after which deposit and reserve can be withdrawn',
      (broker) => broker.unlock(),
      (state) => `unlock started: withdraw is possible from round ${state.withdrawRound}`,
    ),
    stateChangeCommand(
      'cancel-unlock',
      'cancel an unlock in progress (tickets become redeemable again)',
      (broker) => broker.cancelUnlock(),
      () => 'unlock cancelled',
    ),
    {
      name: 'withdraw',
      summary: 'withdraw deposit and reserve once the unlock period is over',
      options: TX_COMMAND_OPTIONS,
      positionals: { min: 0, max: 0 },
      async run(ctx) {
        const { protocol, address, broker } = await signedSender(ctx);
        const tx = await sendAndConfirm(
          ctx,
          'withdraw',
          () => broker.withdraw(),
          senderExplainer(protocol, address, 'withdraw'),
        );
        let deposit = 0n;
        let reserve = 0n;
        for (const log of tx.receipt.logs) {
          const parsed = broker.interface.parseLog(log);
          if (parsed?.name === 'Withdrawal') {
            deposit = parsed.args.deposit as bigint;
            reserve = parsed.args.reserve as bigint;
          }
        }
        const state = await readSender(protocol, address, tx.blockNumber);
        return result(
          address,
          tx,
          state,
          `withdrew ${formatEth(deposit)} deposit and ${formatEth(reserve)} reserve to ${address}`,
          { withdrawn: { deposit, reserve } },
        );
      },
    },
    {
      name: 'info',
      summary: "show a sender's deposit, reserve and unlock state",
      usage: '[address]',
      details: ['Without an address, the signer given by --keystore or --private-key-env is shown.'],
      options: { ...CHAIN_OPTIONS, ...SIGNER_OPTIONS },
      positionals: { min: 0, max: 1 },
      async run(ctx, args) {
        const given = args.positionals[0];
        const address =
          given === undefined ? (await ctx.signer()).address : parseAddressArg(given, 'address');
        const protocol = await ctx.protocol();
        const provider = await ctx.provider();
        const blockTag = await onChain(provider.getBlockNumber());
        const [state, balance, unlockPeriod] = await Promise.all([
          readSender(protocol, address, blockTag),
          onChain(provider.getBalance(address, blockTag)),
          onChain(protocol.broker.unlockPeriod({ blockTag })),
        ]);
        return {
          data: { sender: address, block: blockTag, ...stateJson(state), unlockPeriod, balance },
          human: fieldLines([
            ['sender', address],
            ['deposit', formatEth(state.deposit)],
            [
              'reserve',
              `${formatEth(state.reserve)} (claimed this round: ${formatEth(state.claimedInCurrentRound)})`,
            ],
            ['unlock', describeUnlock(state)],
            ['current round', String(state.currentRound)],
            ['unlock period', `${unlockPeriod} rounds`],
            ['ETH balance', formatEth(balance)],
          ]),
        };
      },
    },
  ],
};
