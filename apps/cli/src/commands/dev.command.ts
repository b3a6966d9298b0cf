import { toQuantity, type JsonRpcProvider } from 'ethers';
import { MAX_UINT256 } from '#app/ticket';
import { formatEth, parseAmount } from '../amount.js';
import { CHAIN_OPTIONS } from '../args.js';
import { chainFailure } from '../chain-errors.js';
import { CliError, CliErrorCode, usageError } from '../cli.error.js';
import type { CommandGroup } from '../command.js';
import { parseAddressArg } from '../context.js';
import { fieldLines } from '../output.js';

const DEFAULT_AMOUNT = '100eth';

/**
 * Refuses anything but a local anvil: the chain id must be anvil's, and the node must say it is
 * anvil (`web3_clientVersion`) — its `anvil_setBalance` prints ETH, which no real chain has.
 */
async function requireAnvil(provider: JsonRpcProvider): Promise<bigint> {
  // Dev-only code (libs/testing), loaded by the anvil-only commands alone.
  const { ANVIL_CHAIN_ID } = await import('#app/testing');
  let chainId: bigint;
  let client: unknown;
  try {
    chainId = (await provider.getNetwork()).chainId;
    client = await provider.send('web3_clientVersion', []);
  } catch (err) {
    throw await chainFailure(err);
  }
  const isAnvil = typeof client === 'string' && client.toLowerCase().startsWith('anvil/');
  if (chainId !== BigInt(ANVIL_CHAIN_ID) || !isAnvil) {
    throw usageError(
      `dev fund only works on a local anvil (chain id ${ANVIL_CHAIN_ID}); this RPC serves chain ${chainId}` +
        `${isAnvil ? '' : ' and is not anvil'}. On a real network, send ETH from a funded account instead.`,
    );
  }
  return chainId;
}

export const devCommands: CommandGroup = {
  name: 'dev',
  summary: 'helpers for the local dev chain (anvil only)',
  commands: [
    {
      name: 'fund',
      summary: 'give an account dev ETH on anvil (default 100 ETH)',
      usage: '<address> [amount]',
      details: [
        "Adds the amount to the account's balance with anvil_setBalance: no transaction, no signer.",
        "Refused on any chain that is not anvil. Beside `npm start` the stack's anvil is used; else",
        'ETH_RPC_URL or --rpc-url.',
      ],
      options: { 'rpc-url': CHAIN_OPTIONS['rpc-url'] },
      positionals: { min: 1, max: 2 },
      async run(ctx, args) {
        const address = parseAddressArg(args.positionals[0], '<address>');
        const amount = parseAmount(args.positionals[1] ?? DEFAULT_AMOUNT);
        if (amount === 0n) throw new CliError(CliErrorCode.INVALID_AMOUNT, 'the amount must be above 0');
        const provider = await ctx.provider();
        const chainId = await requireAnvil(provider);
        try {
          const before = await provider.getBalance(address);
          if (before + amount > MAX_UINT256) {
            throw new CliError(
              CliErrorCode.INVALID_AMOUNT,
              'the new balance would exceed the largest uint256',
            );
          }
          await provider.send('anvil_setBalance', [address, toQuantity(before + amount)]);
          const balance = await provider.getBalance(address);
          return {
            data: { address, added: amount.toString(), balance: balance.toString(), chainId },
            human: fieldLines([
              ['account', address],
              ['added', formatEth(amount)],
              ['balance', formatEth(balance)],
            ]),
          };
        } catch (err) {
          throw await chainFailure(err);
        }
      },
    },
  ],
};
