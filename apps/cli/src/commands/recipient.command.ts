import { getAddress } from 'ethers';
import { bondingManagerAt, ContractRevert, controllerAt } from '#app/chain';
import { formatEth, parseAmount } from '../amount.js';
import { CHAIN_OPTIONS, SIGNER_OPTIONS, TX_OPTIONS } from '../args.js';
import { onChain, type RevertExplainer } from '../chain-errors.js';
import { usageError } from '../cli.error.js';
import type { CommandGroup } from '../command.js';
import { parseAddressArg, type Protocol } from '../context.js';
import { fieldLines } from '../output.js';
import { requestFeeWithdrawal } from '../redeemer-ops.js';
import { sendAndConfirm, txJson, type ConfirmedTx } from '../transactions.js';

const TX_COMMAND_OPTIONS = { ...CHAIN_OPTIONS, ...SIGNER_OPTIONS, ...TX_OPTIONS };

/**
 * What `account` may withdraw at `blockTag`: mainnet's BondingManager view, pendingFees up to the
 * current round (as the Redeemer reads it); the dev stand-in answers the same view.
 */
async function withdrawableFees(
  { bonding, rounds }: Pick<Protocol, 'bonding' | 'rounds'>,
  account: string,
  blockTag: number | 'latest',
): Promise<bigint> {
  const round = await rounds.currentRound({ blockTag });
  return bonding.pendingFees(account, round, { blockTag });
}

/** Names the owner the signer is not. */
function ownerExplainer(protocol: Protocol, signer: string): RevertExplainer {
  return async (reason) => {
    if (reason !== ContractRevert.NOT_CONTROLLER_OWNER) return undefined;
    const provider = protocol.bonding.runner?.provider ?? null;
    const owner = await controllerAt(protocol.addresses.controller, provider).owner();
    return `only the Controller owner (${owner}) may register recipients on the dev protocol; the signer is ${signer}`;
  };
}

export const recipientCommands: CommandGroup = {
  name: 'recipient',
  summary: 'register recipients (dev BondingManager), show them, withdraw their fees',
  commands: [
    {
      name: 'register',
      summary: 'register a recipient and make it active (dev stand-in; signer: Controller owner)',
      usage: '<address>',
      details: [
        'Registered recipients can be paid by winning tickets; active ones can also claim from',
        "senders' reserves. On mainnet this is bonding LPT as an orchestrator instead.",
      ],
      options: {
        ...TX_COMMAND_OPTIONS,
        inactive: { type: 'boolean', description: 'register only; do not add to the active set' },
      },
      positionals: { min: 1, max: 1 },
      async run(ctx, args) {
        const recipient = parseAddressArg(args.positionals[0], 'address');
        const [protocol, signer] = await Promise.all([ctx.protocol(), ctx.signer()]);
        const bonding = bondingManagerAt(protocol.addresses.bondingManager, signer);
        const explain = ownerExplainer(protocol, signer.address);
        const txs: ConfirmedTx[] = [];
        // Both calls are idempotent on-chain; skipping the no-ops saves gas and keeps reruns quiet.
        if (!(await onChain(protocol.bonding.isRegisteredTranscoder(recipient)))) {
          txs.push(await sendAndConfirm(ctx, 'register', () => bonding.register(recipient), explain));
        }
        const wantActive = !args.flag('inactive');
        if (wantActive && !(await onChain(protocol.bonding.isActiveTranscoder(recipient)))) {
          txs.push(await sendAndConfirm(ctx, 'activate', () => bonding.setActive(recipient, true), explain));
        }
        const [registered, active] = await onChain(
          Promise.all([
            protocol.bonding.isRegisteredTranscoder(recipient),
            protocol.bonding.isActiveTranscoder(recipient),
          ]),
        );
        return {
          data: { recipient, registered, active, transactions: txs.map(txJson) },
          human: [
            txs.length === 0
              ? `${recipient} was already ${active ? 'registered and active' : 'registered'}`
              : `${recipient} is now ${active ? 'registered and active' : 'registered'} (tx ${txs.map((t) => t.txHash).join(', ')})`,
          ],
        };
      },
    },
    {
      name: 'info',
      summary: "show a recipient's registration, fees and (with --sender) reserve allocation",
      usage: '<address>',
      options: {
        ...CHAIN_OPTIONS,
        sender: {
          type: 'string',
          value: '<address>',
          description: "also show what the recipient may claim from this sender's reserve",
        },
      },
      positionals: { min: 1, max: 1 },
      async run(ctx, args) {
        const recipient = parseAddressArg(args.positionals[0], 'address');
        const senderArg = args.string('sender');
        const sender = senderArg === undefined ? undefined : parseAddressArg(senderArg, '--sender');
        const { bonding, broker, rounds } = await ctx.protocol();
        const blockTag = await onChain((await ctx.provider()).getBlockNumber());
        const at = { blockTag };
        const [registered, active, fees, poolSize] = await onChain(
          Promise.all([
            bonding.isRegisteredTranscoder(recipient, at),
            bonding.isActiveTranscoder(recipient, at),
            withdrawableFees({ bonding, rounds }, recipient, blockTag),
            bonding.getTranscoderPoolSize(at),
          ]),
        );
        const reserve = sender
          ? await onChain(
              Promise.all([
                broker.claimableReserve(sender, recipient, at),
                broker.claimedReserve(sender, recipient, at),
              ]),
            ).then(([claimable, claimed]) => ({ sender, claimable, claimedThisRound: claimed }))
          : undefined;
        return {
          data: { recipient, block: blockTag, registered, active, fees, activeRecipients: poolSize, reserve },
          human: fieldLines([
            ['recipient', recipient],
            ['registered', registered ? 'yes' : 'no (tickets to it revert)'],
            ['active', active ? 'yes' : 'no (cannot claim from reserves)'],
            ['fees', `${formatEth(fees)} withdrawable`],
            ['active recipients', String(poolSize)],
            ...(reserve
              ? ([
                  [
                    'reserve',
                    `${formatEth(reserve.claimable)} claimable from ${reserve.sender} this round (claimed: ${formatEth(reserve.claimedThisRound)})`,
                  ],
                ] as const)
              : []),
          ]),
        };
      },
    },
    {
      name: 'withdraw-fees',
      summary: "withdraw the signer's redeemed-ticket fees from the BondingManager",
      details: [
        'Fees are credited to the ticket recipient and withdrawn by it. While the Redeemer signs with',
        "the recipient's key, use --via-redeemer: the Redeemer sends the transaction with its own",
        'nonces (REDEEMER_URL or --redeemer-url, REDEEMER_OPS_TOKEN); a second sender on the same',
        'key would race it for nonces.',
      ],
      options: {
        ...TX_COMMAND_OPTIONS,
        amount: { type: 'string', value: '<amount>', description: 'how much (default: all fees)' },
        to: { type: 'string', value: '<address>', description: 'where the ETH goes (default: the signer)' },
        'via-redeemer': {
          type: 'boolean',
          description: "have the Redeemer withdraw its signer's fees through its ops endpoint",
        },
        'redeemer-url': {
          type: 'string',
          value: '<url>',
          description: "the Redeemer's HTTP base URL (default: REDEEMER_URL)",
        },
      },
      positionals: { min: 0, max: 0 },
      async run(ctx, args) {
        const amountArg = args.string('amount');
        const requested = amountArg === undefined ? undefined : parseAmount(amountArg, '--amount');
        if (requested === 0n) throw usageError('--amount must be greater than zero');
        const toArg = args.string('to');
        const toGiven = toArg === undefined ? undefined : parseAddressArg(toArg, '--to');
        if (args.flag('via-redeemer')) {
          const ops = ctx.redeemerOps();
          if (!ops) throw usageError('--via-redeemer needs --redeemer-url or REDEEMER_URL');
          const done = await requestFeeWithdrawal(ops, { amount: requested, to: toGiven });
          if (!done)
            return {
              data: { via: 'redeemer-ops', amount: 0n },
              human: ["the Redeemer's signer has no fees to withdraw"],
            };
          const to = getAddress(done.to);
          return {
            data: { via: 'redeemer-ops', to, amount: done.amount, txHash: done.txHash },
            human: [`the Redeemer withdrew ${formatEth(done.amount)} of fees to ${to} (tx ${done.txHash})`],
          };
        }
        const [protocol, signer] = await Promise.all([ctx.protocol(), ctx.signer()]);
        const to = toGiven ?? signer.address;
        const fees = await onChain(withdrawableFees(protocol, signer.address, 'latest'));
        const amount = requested ?? fees;
        if (amount === 0n) {
          return {
            data: { recipient: signer.address, to, amount: 0n, feesLeft: fees },
            human: [`${signer.address} has no fees to withdraw`],
          };
        }
        const bonding = bondingManagerAt(protocol.addresses.bondingManager, signer);
        const tx = await sendAndConfirm(ctx, 'withdraw fees', () => bonding.withdrawFees(to, amount));
        const left = await onChain(withdrawableFees(protocol, signer.address, tx.blockNumber));
        return {
          data: { recipient: signer.address, to, amount, feesLeft: left, ...txJson(tx) },
          human: [
            `withdrew ${formatEth(amount)} of fees to ${to} (tx ${tx.txHash}, block ${tx.blockNumber})`,
            `fees left: ${formatEth(left)}`,
          ],
        };
      },
    },
  ],
};
