import {
  ContractFactory,
  ZeroAddress,
  type ContractTransactionResponse,
  type Overrides,
  type Signer,
} from 'ethers';
import {
  CONTRACT_IDS,
  bondingManagerAt,
  controllerAt,
  loadArtifact,
  roundsManagerAt,
  ticketBrokerAt,
  type ArtifactName,
  type ContractName,
  type ProtocolAddresses,
} from '#app/chain';
import { advanceToNextRound, freshPendingNonce } from './dev-chain.js';

export interface DeployProtocolOptions {
  /** Blocks per round. Default 20: short rounds keep dev and test chains quick. */
  roundLength?: bigint | number;
  /** Rounds between `unlock()` and `withdraw()`. Default 2, as on Arbitrum One. */
  unlockPeriod?: bigint | number;
  /** Rounds a ticket stays redeemable after its creation round. Default 2, as on Arbitrum One. */
  ticketValidityPeriod?: bigint | number;
  /** Recipients (orchestrators) to register and activate, so they can be paid and claim reserves. */
  recipients?: readonly string[];
  /** Where the compiled artifacts live; found by walking up from this library by default. */
  artifactsDir?: string;
}

export interface DeployedProtocol {
  /** The one address services are configured with. */
  controller: string;
  addresses: ProtocolAddresses;
  /** Block of the Controller deployment: where event scans can start. */
  deployBlock: number;
}

// The dev deployment has no git commit to record in the registry.
const NO_COMMIT = `0x${'00'.repeat(20)}`;

/**
 * Deploys the dev protocol (Controller, Minter, BondingManager, RoundsManager, our TicketBroker and
 * the ServiceRegistry) in Livepeer's order, wires it through the Controller, unpauses it and
 * initializes the first usable round. The deployer becomes the Controller owner.
 *
 * Nonces are assigned here and every tx is awaited, so a provider that caches nonce look-ups or a
 * chain with interval mining cannot make two txs collide.
 */
export async function deployProtocol(
  signer: Signer,
  options: DeployProtocolOptions = {},
): Promise<DeployedProtocol> {
  const { artifactsDir, recipients = [] } = options;
  let nonce = await freshPendingNonce(signer);
  const next = (): Overrides => ({ nonce: nonce++ });

  async function deploy(name: ArtifactName, ...args: unknown[]): Promise<{ address: string; block: number }> {
    const artifact = loadArtifact(name, artifactsDir);
    const contract = await new ContractFactory(artifact.abi, artifact.bytecode, signer).deploy(
      ...args,
      next(),
    );
    const receipt = await contract.deploymentTransaction()!.wait();
    return { address: await contract.getAddress(), block: receipt!.blockNumber };
  }
  async function send(tx: Promise<ContractTransactionResponse>): Promise<void> {
    await (await tx).wait();
  }

  const controllerDeployment = await deploy('Controller');
  const controllerAddress = controllerDeployment.address;
  const controller = controllerAt(controllerAddress, signer, artifactsDir);
  const register = (name: ContractName, address: string) =>
    send(controller.setContractInfo(CONTRACT_IDS[name], address, NO_COMMIT, next()));

  const minter = await deploy('Minter', controllerAddress);
  await register('Minter', minter.address);
  const bondingManager = await deploy('BondingManager', controllerAddress);
  await register('BondingManager', bondingManager.address);
  const roundsManager = await deploy('RoundsManager', controllerAddress);
  await register('RoundsManager', roundsManager.address);

  const ticketBroker = await deploy('TicketBroker', controllerAddress);
  await register('TicketBroker', ticketBroker.address);
  // The Minter accepts deposits and withdrawal requests only from "JobsManager" (or Minter/BondingManager).
  await register('JobsManager', ticketBroker.address);
  // Orchestrators publish their URIs here themselves (setServiceUri), none at deployment.
  const serviceRegistry = await deploy('ServiceRegistry', controllerAddress);
  await register('ServiceRegistry', serviceRegistry.address);

  const rounds = roundsManagerAt(roundsManager.address, signer, artifactsDir);
  const broker = ticketBrokerAt(ticketBroker.address, signer, artifactsDir);
  await send(rounds.setRoundLength(options.roundLength ?? 20n, next()));
  await send(broker.setUnlockPeriod(options.unlockPeriod ?? 2n, next()));
  await send(broker.setTicketValidityPeriod(options.ticketValidityPeriod ?? 2n, next()));

  const bonding = bondingManagerAt(bondingManager.address, signer, artifactsDir);
  for (const recipient of recipients) {
    if (recipient === ZeroAddress) throw new Error('cannot register the zero address as a recipient');
    await send(bonding.register(recipient, next()));
    await send(bonding.setActive(recipient, true, next()));
  }

  await send(controller.unpause(next()));
  // Round 0 can never be initialized; redemptions need an initialized round with a block hash.
  await advanceToNextRound(signer, roundsManager.address);

  return {
    controller: controllerAddress,
    addresses: {
      controller: controllerAddress,
      ticketBroker: ticketBroker.address,
      bondingManager: bondingManager.address,
      minter: minter.address,
      roundsManager: roundsManager.address,
      serviceRegistry: serviceRegistry.address,
    },
    deployBlock: controllerDeployment.block,
  };
}
