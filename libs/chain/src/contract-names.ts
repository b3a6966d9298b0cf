import { id } from 'ethers';

/**
 * Names under which contracts are registered in the Controller. Livepeer's deployer registers the
 * TicketBroker proxy as "TicketBroker" and again as "JobsManager" (the Minter only accepts ETH from
 * those names), and the proxy's implementation as "TicketBrokerTarget".
 */
export const CONTRACT_NAMES = [
  'TicketBroker',
  'TicketBrokerTarget',
  'JobsManager',
  'BondingManager',
  'Minter',
  'RoundsManager',
  'ServiceRegistry',
] as const;

export type ContractName = (typeof CONTRACT_NAMES)[number];

/** Controller registry id of each name: `keccak256(bytes(name))`. */
export const CONTRACT_IDS: Readonly<Record<ContractName, string>> = Object.freeze(
  Object.fromEntries(CONTRACT_NAMES.map((name) => [name, id(name)])) as Record<ContractName, string>,
);
