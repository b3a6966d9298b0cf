import { getBigInt, toQuantity, type JsonRpcApiProvider } from 'ethers';
import type { L1BlockSource } from '../chain-facts.js';
import { WatcherError, WatcherErrorCode } from './watcher.error.js';

/** What the watchers keep of a block. */
export interface BlockHeader {
  number: bigint;
  hash: string;
  parentHash: string;
  /** The L1 block number params expire against: the block's own number, or Arbitrum's `l1BlockNumber`. */
  l1Block: bigint;
}

interface RawHeader {
  number?: string;
  hash?: string;
  parentHash?: string;
  l1BlockNumber?: string;
}

/**
 * Validates a raw `eth_getBlockByNumber` header. With the `arbitrum` source a missing
 * `l1BlockNumber` is an error, not a silent fallback: params would expire against L2 blocks.
 */
export function parseHeader(raw: unknown, source: L1BlockSource): BlockHeader {
  const h = (raw ?? {}) as RawHeader;
  if (typeof h.number !== 'string' || typeof h.hash !== 'string' || typeof h.parentHash !== 'string') {
    throw new WatcherError(WatcherErrorCode.RPC_FAILED, 'the RPC returned a block without number or hash');
  }
  const number = getBigInt(h.number);
  let l1Block = number;
  if (source === 'arbitrum') {
    if (typeof h.l1BlockNumber !== 'string') {
      throw new WatcherError(
        WatcherErrorCode.RPC_FAILED,
        'block has no l1BlockNumber: is the L1 block source "arbitrum" right for this chain?',
      );
    }
    l1Block = getBigInt(h.l1BlockNumber);
  }
  return { number, hash: h.hash.toLowerCase(), parentHash: h.parentHash.toLowerCase(), l1Block };
}

/** Reads a header (`latest` or a number) through the raw JSON-RPC call, which keeps `l1BlockNumber`. */
export async function readHeader(
  provider: JsonRpcApiProvider,
  block: bigint | 'latest',
  source: L1BlockSource,
): Promise<BlockHeader> {
  const tag = block === 'latest' ? 'latest' : toQuantity(block);
  const raw: unknown = await provider.send('eth_getBlockByNumber', [tag, false]);
  if (raw === null) {
    throw new WatcherError(WatcherErrorCode.RPC_FAILED, `the RPC does not know block ${String(block)}`);
  }
  return parseHeader(raw, source);
}
