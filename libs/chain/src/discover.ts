import { ZeroAddress, type ContractRunner } from 'ethers';
import { controllerAt } from './bindings.js';
import { ChainError, ChainErrorCode } from './chain.error.js';
import { CONTRACT_IDS, type ContractName } from './contract-names.js';

/** Every protocol address a service needs; all of it follows from the Controller's. */
export interface ProtocolAddresses {
  controller: string;
  ticketBroker: string;
  bondingManager: string;
  minter: string;
  roundsManager: string;
  /** Orchestrators' service URIs (discovery); registered on Livepeer's networks too. */
  serviceRegistry: string;
}

const LOOKUPS = {
  ticketBroker: 'TicketBroker',
  bondingManager: 'BondingManager',
  minter: 'Minter',
  roundsManager: 'RoundsManager',
  serviceRegistry: 'ServiceRegistry',
} as const satisfies Record<Exclude<keyof ProtocolAddresses, 'controller'>, ContractName>;

/**
 * Looks every contract up by registry name in the Controller, as go-livepeer does: services are
 * configured with the Controller address only. Throws if any name is unregistered.
 */
export async function discoverAddresses(
  runner: ContractRunner,
  controllerAddress: string,
): Promise<ProtocolAddresses> {
  const controller = controllerAt(controllerAddress, runner);
  const entries = await Promise.all(
    Object.entries(LOOKUPS).map(async ([key, name]) => {
      const address = await controller.getContract(CONTRACT_IDS[name]);
      if (address === ZeroAddress) {
        throw new ChainError(
          ChainErrorCode.CONTRACT_NOT_REGISTERED,
          `${name} is not registered in the Controller at ${controllerAddress}`,
        );
      }
      return [key, address] as const;
    }),
  );
  return { controller: controllerAddress, ...Object.fromEntries(entries) } as ProtocolAddresses;
}
