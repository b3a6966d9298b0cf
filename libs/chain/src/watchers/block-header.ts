import { getBigInt, toQuantity, type JsonRpcApiProvider } from 'ethers';
import type { L1BlockSource } from '../chain-facts.js';
import { chainKindOf, type ChainKind } from '../chain-kind.js';
import { WatcherError, WatcherErrorCode } from './watcher.error.js';

/** What the watchers keep of a block. */
export interface BlockHeader {
  number: bigint;
  hash: string;
  parentHash: string;
  /** The L1 block number params expire against: the block's own number, or Arbitrum's `l1BlockNumber`. */
  l1Block: bigint;
  kind: ChainKind;
}

interface RawHeader {
  number?: string;
  hash?: string;
  parentHash?: string;
  l1BlockNumber?: string;
}

/**
 * The L1 block number params expire against and rounds count, from a raw block: Arbitrum's
 * `l1BlockNumber` when the block carries one (Livepeer's contracts there count L1 blocks), else
 * the block's own number. The source setting only refuses what it rules out, never falls back:
 * `arbitrum` a block without `l1BlockNumber`, `block` a block with one (params would expire
 * against L2 blocks, rounds would be misread). The one reading of it: every head source and the
 * Redeemer's mined-block reads go through here.
 */
export function l1BlockOf(raw: { number: string; l1BlockNumber?: unknown }, source: L1BlockSource): bigint {
  if (chainKindOf(raw) === 'arbitrum') {
    if (source === 'block') {
      throw new WatcherError(
        WatcherErrorCode.RPC_FAILED,
        'block has an l1BlockNumber (an Arbitrum chain): with the L1 block source "block" params would expire against L2 blocks; use "auto" or "arbitrum"',
      );
    }
    return getBigInt(raw.l1BlockNumber as string);
  }
  if (source === 'arbitrum') {
    throw new WatcherError(
      WatcherErrorCode.RPC_FAILED,
      'block has no l1BlockNumber: is the L1 block source "arbitrum" right for this chain?',
    );
  }
  return getBigInt(raw.number);
}

/** Validates a raw `eth_getBlockByNumber` header (its L1 block as l1BlockOf reads it). */
export function parseHeader(raw: unknown, source: L1BlockSource): BlockHeader {
  const h = (raw ?? {}) as RawHeader;
  if (typeof h.number !== 'string' || typeof h.hash !== 'string' || typeof h.parentHash !== 'string') {
    throw new WatcherError(WatcherErrorCode.RPC_FAILED, 'the RPC returned a block without number or hash');
  }
  return {
    number: getBigInt(h.number),
    hash: h.hash.toLowerCase(),
    parentHash: h.parentHash.toLowerCase(),
    l1Block: l1BlockOf({ number: h.number, l1BlockNumber: h.l1BlockNumber }, source),
    kind: chainKindOf(h),
  };
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

/**
 * The L1 block of block `number` (e.g. the one that mined a tx), read as the head source reads a
 * head: the number itself (no read) with the `block` source, or with `auto` on a chain the head
 * showed to be `l1`; else from the block's header (l1BlockOf).
 */
export async function l1BlockAt(
  provider: JsonRpcApiProvider,
  number: bigint,
  source: L1BlockSource,
  kind?: ChainKind,
): Promise<bigint> {
  if (source === 'block' || (source === 'auto' && kind === 'l1')) return number;
  return (await readHeader(provider, number, source)).l1Block;
}
