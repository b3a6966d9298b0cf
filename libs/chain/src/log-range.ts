import { Logger } from '@nestjs/common';
import type { Filter, Log, Provider } from 'ethers';
import { int, type EnvSchema } from '#app/common';
import { errorText } from './tx/tx-error.js';

/**
 * Blocks per eth_getLogs request unless configured: under the common provider caps (2,000 to
 * 10,000 blocks), and on Arbitrum One (~4 blocks/s) about 8 minutes of chain.
 */
export const DEFAULT_LOGS_MAX_BLOCKS = 2_000;

/** ETH_LOGS_MAX_BLOCKS, in the config schema of every service that reads logs over a block range. */
export const ETH_LOGS_ENV = {
  ETH_LOGS_MAX_BLOCKS: {
    parse: int(1, 1_000_000),
    default: DEFAULT_LOGS_MAX_BLOCKS,
    description:
      'most blocks one eth_getLogs request spans (RPC providers cap it); a request the provider still refuses ' +
      'as too wide or as too many results is split in halves, down to one block',
  },
} satisfies EnvSchema;

/** The inclusive block range [from, to]. */
export interface BlockRange {
  from: bigint;
  to: bigint;
}

/** What eth_getLogs filters on besides the blocks. */
export type LogQuery = Pick<Filter, 'address' | 'topics'>;

/** One request's worth of a walk: the blocks it covered and what the request returned for them. */
export interface RangeChunk<T> extends BlockRange {
  value: T;
}

/**
 * Provider refusals of an eth_getLogs request for its span or its result count, as the common
 * providers and nodes word them (geth and Infura, Arbitrum's nitro, Alchemy, QuickNode, Ankr,
 * Chainstack, BlockPI, publicnode, Cloudflare, Blast, Base, Optimism...). Matched only on errors of
 * eth_getLogs itself, so the wording may be broad; an outage or a bad filter matches none.
 */
const RANGE_REFUSALS: readonly RegExp[] = [
  /query returned more than \d+ results/,
  /query exceeds max (results|block range)/,
  /logs matched by query exceeds limit/,
  /(log )?response size (exceeded|should not greater)/,
  /response (is )?too (big|large)/,
  /backend response too large/,
  /too many (results|logs|blocks)/,
  /block range (is )?too (wide|large|big)/,
  /(range|span) is too (wide|large)/,
  /exceeds? (the )?max(imum)? (block )?range/,
  /max(imum)? block range/,
  /block range (limit )?exceed/,
  /block range greater than/,
  /requested too many blocks/,
  /limited to (a )?[\d,.]+k? ?(blocks?|range)/,
  /up to a [\d,.]+k? block range/,
  /max range: \d+/,
  /maximum allowed number of requested blocks/,
  /please limit the query to at most/,
  /exceeds the range allowed/,
  /blocks distance/,
];

/**
 * Whether an eth_getLogs failure is the provider refusing the span or the size of the answer, which
 * a narrower request can avoid, rather than a failure a retry of any width would meet again.
 */
export function isLogRangeError(err: unknown): boolean {
  const body = (err as { info?: { responseBody?: unknown } } | null)?.info?.responseBody;
  // An HTTP error status carries the provider's JSON-RPC error in the body only.
  const text = typeof body === 'string' ? `${errorText(err)} | ${body.toLowerCase()}` : errorText(err);
  return RANGE_REFUSALS.some((re) => re.test(text));
}

const logger = new Logger('LogRange');

/**
 * Walks `range` in order, in spans of at most `maxBlocks` blocks, yielding what `fetch` returns for
 * each. A span `fetch` fails with a range refusal (`isRangeError`) is asked again as its first half,
 * down to one block, and the narrower width holds for the rest of the walk (the provider's cap does
 * not widen further on). Any other failure, or a refusal of a single block, is thrown as it came.
 */
export async function* walkBlockRange<T>(
  range: BlockRange,
  maxBlocks: number,
  fetch: (from: bigint, to: bigint) => Promise<T>,
  isRangeError: (err: unknown) => boolean = isLogRangeError,
): AsyncGenerator<RangeChunk<T>> {
  if (!Number.isSafeInteger(maxBlocks) || maxBlocks < 1) {
    throw new RangeError(`maxBlocks must be a positive integer, got ${maxBlocks}`);
  }
  let width = BigInt(maxBlocks);
  let narrowed = false;
  let from = range.from;
  while (from <= range.to) {
    const last = from + width - 1n;
    const to = last < range.to ? last : range.to;
    let value: T;
    try {
      value = await fetch(from, to);
    } catch (err) {
      if (to === from || !isRangeError(err)) throw err;
      width = (to - from + 1n) / 2n;
      if (!narrowed) {
        narrowed = true;
        logger.warn({
          msg: 'eth_getLogs refused as too wide or too large: asking in narrower spans',
          from: from.toString(),
          to: to.toString(),
          maxBlocks,
        });
      }
      continue;
    }
    yield { from, to, value };
    from = to + 1n;
  }
}

/**
 * Every log `query` matches in `range`, in block order, fetched in spans (walkBlockRange). A range
 * `to` 'latest' is planned up to the head read now, and its last span asks up to 'latest' itself, so
 * the node's head at that request bounds it, as a single eth_getLogs to 'latest' would (the head read
 * may be a provider's cached one, a block behind state just read at 'latest').
 */
export async function getLogsInRange(
  provider: Pick<Provider, 'getLogs' | 'getBlockNumber'>,
  query: LogQuery,
  range: { from: bigint; to: bigint | 'latest' },
  maxBlocks: number,
): Promise<Log[]> {
  const latest = range.to === 'latest';
  const to = range.to === 'latest' ? BigInt(await provider.getBlockNumber()) : range.to;
  const out: Log[] = [];
  const chunks = walkBlockRange({ from: range.from, to }, maxBlocks, (fromBlock, toBlock) =>
    provider.getLogs({ ...query, fromBlock, toBlock: latest && toBlock === to ? 'latest' : toBlock }),
  );
  for await (const chunk of chunks) out.push(...chunk.value);
  return out;
}
