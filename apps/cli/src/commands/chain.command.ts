import { controllerAt } from '#app/chain';
import { CHAIN_OPTIONS, SIGNER_OPTIONS } from '../args.js';
import { onChain } from '../chain-errors.js';
import { usageError } from '../cli.error.js';
import type { CommandGroup } from '../command.js';
import { parseAddressArg } from '../context.js';
import { fieldLines } from '../output.js';

export const chainCommands: CommandGroup = {
  name: 'chain',
  summary: 'deploy the dev protocol, show protocol state',
  commands: [
    {
      name: 'deploy',
      summary: 'deploy the dev protocol (Controller, stand-ins, TicketBroker) on anvil',
      details: [
        'The signer becomes the Controller owner (needed later for `recipient register`). The',
        'protocol is unpaused and its first usable round initialized. Prints the Controller address:',
        'set it as CONTROLLER_ADDRESS for every other command and service.',
      ],
      options: {
        'rpc-url': CHAIN_OPTIONS['rpc-url'],
        ...SIGNER_OPTIONS,
        'round-length': { type: 'string', value: '<blocks>', description: 'blocks per round (default 20)' },
        'unlock-period': {
          type: 'string',
          value: '<rounds>',
          description: 'rounds between unlock and withdraw (default 2)',
        },
        'ticket-validity-period': {
          type: 'string',
          value: '<rounds>',
          description: 'rounds a ticket stays redeemable (default 2)',
        },
        recipient: {
          type: 'string',
          multiple: true,
          value: '<address>',
          description: 'register and activate a recipient (repeatable)',
        },
      },
      positionals: { min: 0, max: 0 },
      async run(ctx, args) {
        const roundLength = args.uint('round-length', 20);
        if (roundLength < 1) throw usageError('--round-length must be at least 1');
        const unlockPeriod = args.uint('unlock-period', 2);
        const ticketValidityPeriod = args.uint('ticket-validity-period', 2);
        if (ticketValidityPeriod < 1) throw usageError('--ticket-validity-period must be at least 1');
        const recipients = args.list('recipient').map((r) => parseAddressArg(r, '--recipient'));
        const provider = await ctx.provider();
        const { chainId } = await provider.getNetwork();
        // Dev-only code (libs/testing), loaded by the anvil-only commands alone.
        const { ANVIL_CHAIN_ID, deployProtocol } = await import('#app/testing');
        // The dev stand-ins are never deployed anywhere but anvil.
        if (chainId !== BigInt(ANVIL_CHAIN_ID)) {
          throw usageError(
            `chain deploy installs the dev stand-in contracts and only runs on anvil (chain id ${ANVIL_CHAIN_ID}); this RPC serves chain ${chainId}`,
          );
        }
        const signer = await ctx.signer();
        ctx.progress.status('deploying the dev protocol…');
        const deployed = await onChain(
          deployProtocol(signer, { roundLength, unlockPeriod, ticketValidityPeriod, recipients }),
        );
        ctx.progress.end('deployed');
        const { addresses } = deployed;
        return {
          data: {
            chainId,
            controller: deployed.controller,
            addresses,
            deployBlock: deployed.deployBlock,
            owner: signer.address,
            roundLength,
            unlockPeriod,
            ticketValidityPeriod,
            recipients,
          },
          human: [
            ...fieldLines([
              ['Controller', addresses.controller],
              ['TicketBroker', addresses.ticketBroker],
              ['BondingManager', addresses.bondingManager],
              ['RoundsManager', addresses.roundsManager],
              ['Minter', addresses.minter],
              ['ServiceRegistry', addresses.serviceRegistry],
              ['owner', signer.address],
              ['deploy block', String(deployed.deployBlock)],
              ['round length', `${roundLength} blocks`],
              ['unlock period', `${unlockPeriod} rounds`],
              ['ticket validity', `${ticketValidityPeriod} rounds`],
              ['recipients', recipients.length > 0 ? recipients.join(', ') : 'none'],
            ]),
            '',
            `export CONTROLLER_ADDRESS=${addresses.controller}`,
          ],
        };
      },
    },
    {
      name: 'info',
      summary: 'show the protocol: addresses, round, parameters',
      options: { ...CHAIN_OPTIONS },
      positionals: { min: 0, max: 0 },
      async run(ctx) {
        const { addresses, broker, rounds, bonding } = await ctx.protocol();
        const provider = await ctx.provider();
        const blockTag = await onChain(provider.getBlockNumber());
        const at = { blockTag };
        const [network, paused, currentRound, initialized, lastInitialized, roundLength, roundStart] =
          await onChain(
            Promise.all([
              provider.getNetwork(),
              controllerAt(addresses.controller, provider).paused(at),
              rounds.currentRound(at),
              rounds.currentRoundInitialized(at),
              rounds.lastInitializedRound(at),
              rounds.roundLength(at),
              rounds.currentRoundStartBlock(at),
            ]),
          );
        const [unlockPeriod, validity, poolSize] = await onChain(
          Promise.all([
            broker.unlockPeriod(at),
            broker.ticketValidityPeriod(at),
            bonding.getTranscoderPoolSize(at),
          ]),
        );
        return {
          data: {
            chainId: network.chainId,
            block: blockTag,
            addresses,
            paused,
            round: {
              current: currentRound,
              initialized,
              lastInitialized,
              length: roundLength,
              startBlock: roundStart,
            },
            unlockPeriod,
            ticketValidityPeriod: validity,
            activeRecipients: poolSize,
          },
          human: fieldLines([
            ['chain id', String(network.chainId)],
            ['block', String(blockTag)],
            ['Controller', addresses.controller],
            ['TicketBroker', addresses.ticketBroker],
            ['BondingManager', addresses.bondingManager],
            ['RoundsManager', addresses.roundsManager],
            ['Minter', addresses.minter],
            ['ServiceRegistry', addresses.serviceRegistry],
            ['paused', paused ? 'yes' : 'no'],
            [
              'round',
              `${currentRound} (${initialized ? 'initialized' : `not initialized; last initialized ${lastInitialized}`}), ` +
                `started at block ${roundStart}, ${roundLength} blocks per round`,
            ],
            ['unlock period', `${unlockPeriod} rounds`],
            ['ticket validity', `${validity} rounds`],
            ['active recipients', String(poolSize)],
          ]),
        };
      },
    },
  ],
};
