import { ZeroAddress, type BlockTag, type ContractRunner } from 'ethers';
import { bondingManagerAt, serviceRegistryAt } from './bindings.js';
import { ChainError, ChainErrorCode } from './chain.error.js';
import type { ProtocolAddresses } from './discover.js';

/** One orchestrator of the on-chain pool and the URI it serves on. */
export interface OrchestratorPoolEntry {
  /** Lowercase 0x-hex. */
  address: string;
  /** ServiceRegistry.getServiceURI, as published (never empty here). */
  serviceUri: string;
}

export interface ReadOrchestratorPoolOptions {
  /**
   * Block every read is made at. Default: the runner's current block number, so a pool changing
   * during the walk cannot skip, repeat or cut it short.
   */
  blockTag?: BlockTag;
}

/**
 * Most transcoders walked. Mainnet caps its pool at 100 (transcoderPoolMaxSize); this only keeps a
 * broken or hostile BondingManager from making one read run away.
 */
export const MAX_TRANSCODER_POOL_WALK = 1_000;

/**
 * The on-chain orchestrator pool as go-livepeer's `-remoteDiscovery` without `-orchAddr` sees it:
 * BondingManager's transcoder pool walked in order from getFirstTranscoderInPool, each paired with
 * its ServiceRegistry URI. Orchestrators with no URI are left out (nothing to dial).
 *
 * Throws INVALID_TRANSCODER_POOL when the walk does not end at the zero address within
 * getTranscoderPoolSize() transcoders (a cycle, or a list longer than its size) or the size is over
 * MAX_TRANSCODER_POOL_WALK.
 */
export async function readOrchestratorPool(
  runner: ContractRunner,
  addresses: Pick<ProtocolAddresses, 'bondingManager' | 'serviceRegistry'>,
  options: ReadOrchestratorPoolOptions = {},
): Promise<OrchestratorPoolEntry[]> {
  const blockTag = options.blockTag ?? (await runner.provider?.getBlockNumber()) ?? 'latest';
  const bonding = bondingManagerAt(addresses.bondingManager, runner);
  const [size, first] = await Promise.all([
    bonding.getTranscoderPoolSize({ blockTag }),
    bonding.getFirstTranscoderInPool({ blockTag }),
  ]);
  if (size > BigInt(MAX_TRANSCODER_POOL_WALK)) {
    throw invalidPool(
      `the transcoder pool has ${size} members, more than the ${MAX_TRANSCODER_POOL_WALK} read`,
    );
  }

  const pool: string[] = [];
  const seen = new Set<string>();
  for (let current = first; current !== ZeroAddress;) {
    const address = current.toLowerCase();
    if (seen.has(address)) throw invalidPool(`the transcoder pool loops back to ${address}`);
    if (pool.length === Number(size)) {
      throw invalidPool(`the transcoder pool goes on past its size of ${size}`);
    }
    seen.add(address);
    pool.push(address);
    current = await bonding.getNextTranscoderInPool(current, { blockTag });
  }

  const registry = serviceRegistryAt(addresses.serviceRegistry, runner);
  const uris = await Promise.all(pool.map((address) => registry.getServiceURI(address, { blockTag })));
  return pool.flatMap((address, i) => (uris[i] ? [{ address, serviceUri: uris[i] }] : []));
}

function invalidPool(message: string): ChainError {
  return new ChainError(ChainErrorCode.INVALID_TRANSCODER_POOL, message);
}
