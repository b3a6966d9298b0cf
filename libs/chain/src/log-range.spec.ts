import { FetchRequest, FetchResponse, makeError, toUtf8Bytes, type Filter, type Log } from 'ethers';
import { describe, expect, it } from 'vitest';
import { getLogsInRange, isLogRangeError, walkBlockRange, type BlockRange } from './log-range.js';

/** A provider-like refusal as ethers raises it from a JSON-RPC error answer. */
const rpcError = (message: string, code = -32005) =>
  makeError('could not coalesce error', 'UNKNOWN_ERROR', {
    error: { code, message },
    payload: { method: 'eth_getLogs', params: [], id: 1, jsonrpc: '2.0' },
  });

const TOO_WIDE = () => rpcError('block range is too wide', -32600);

/** A fetch that refuses spans wider than `cap` blocks, recording every span it was asked. */
function capped(cap: bigint, refusal: () => Error = TOO_WIDE) {
  const asked: [bigint, bigint][] = [];
  const fetch = (from: bigint, to: bigint) => {
    asked.push([from, to]);
    return to - from + 1n > cap ? Promise.reject(refusal()) : Promise.resolve(`${from}-${to}`);
  };
  return { asked, fetch };
}

async function walk<T>(
  range: BlockRange,
  maxBlocks: number,
  fetch: (from: bigint, to: bigint) => Promise<T>,
): Promise<[bigint, bigint, T][]> {
  const out: [bigint, bigint, T][] = [];
  for await (const c of walkBlockRange(range, maxBlocks, fetch)) out.push([c.from, c.to, c.value]);
  return out;
}

describe('walkBlockRange', () => {
  it('walks the range in order in spans of at most maxBlocks, the last one cut at the end', async () => {
    const { asked, fetch } = capped(1_000n);
    expect(await walk({ from: 10n, to: 34n }, 10, fetch)).toEqual([
      [10n, 19n, '10-19'],
      [20n, 29n, '20-29'],
      [30n, 34n, '30-34'],
    ]);
    expect(asked).toHaveLength(3);
  });

  it('asks a refused span again in halves, keeps the narrower width, and covers every block once', async () => {
    const { asked, fetch } = capped(3n);
    const chunks = await walk({ from: 100n, to: 119n }, 16, fetch);
    // 16 refused, 8 refused, 4 refused, then spans of 2 to the end.
    expect(asked.slice(0, 4)).toEqual([
      [100n, 115n],
      [100n, 107n],
      [100n, 103n],
      [100n, 101n],
    ]);
    expect(chunks.map(([from, to]) => [from, to])).toEqual(
      Array.from({ length: 10 }, (_, i) => [100n + 2n * BigInt(i), 101n + 2n * BigInt(i)]),
    );
    expect(asked).toHaveLength(3 + 10);
  });

  it('halves down to a single block', async () => {
    const { fetch } = capped(1n, () => rpcError('query returned more than 10000 results'));
    const chunks = await walk({ from: 0n, to: 2n }, 1_000, fetch);
    expect(chunks.map(([from, to]) => [from, to])).toEqual([
      [0n, 0n],
      [1n, 1n],
      [2n, 2n],
    ]);
  });

  it('throws a refusal of a single block as it came', async () => {
    const refusal = rpcError('query returned more than 10000 results');
    await expect(walk({ from: 5n, to: 9n }, 4, () => Promise.reject(refusal))).rejects.toBe(refusal);
  });

  it('throws any other failure as it came, without asking again', async () => {
    const outage = makeError('request timeout', 'TIMEOUT', { operation: 'eth_getLogs', reason: 'timeout' });
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(outage);
    };
    await expect(walk({ from: 0n, to: 99n }, 50, failing)).rejects.toBe(outage);
    expect(calls).toBe(1);
  });

  it('yields what was read before a failure, then throws', async () => {
    const outage = new Error('socket hang up');
    const seen: bigint[] = [];
    const fetch = (from: bigint) => (from >= 20n ? Promise.reject(outage) : Promise.resolve(from));
    await expect(
      (async () => {
        for await (const c of walkBlockRange({ from: 0n, to: 40n }, 10, fetch)) seen.push(c.value);
      })(),
    ).rejects.toBe(outage);
    expect(seen).toEqual([0n, 10n]);
  });

  it('reads nothing for an empty range, and refuses a width below one block', async () => {
    const { asked, fetch } = capped(10n);
    expect(await walk({ from: 7n, to: 6n }, 10, fetch)).toEqual([]);
    expect(asked).toEqual([]);
    await expect(walk({ from: 0n, to: 1n }, 0, fetch)).rejects.toThrow(RangeError);
  });
});

describe('getLogsInRange', () => {
  /** A chain whose head is `head` (the provider's cached head: `cached`), one log per block. */
  function chain(head: bigint, cached = head) {
    const filters: Filter[] = [];
    const provider = {
      getBlockNumber: () => Promise.resolve(Number(cached)),
      getLogs: (f: Filter) => {
        filters.push(f);
        const from = BigInt(f.fromBlock as bigint);
        const to = f.toBlock === 'latest' ? head : BigInt(f.toBlock as bigint);
        if (to - from + 1n > 4n) return Promise.reject(rpcError('exceed maximum block range: 4', -32000));
        const logs: Pick<Log, 'blockNumber'>[] = [];
        for (let b = from; b <= to; b++) logs.push({ blockNumber: Number(b) });
        return Promise.resolve(logs as Log[]);
      },
    };
    return { provider, filters };
  }

  it('passes the query with each span and returns every log in block order', async () => {
    const { provider, filters } = chain(100n);
    const logs = await getLogsInRange(
      provider,
      { address: '0xab', topics: [['0x01']] },
      { from: 1n, to: 12n },
      10,
    );
    expect(logs.map((l) => l.blockNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(filters.every((f) => f.address === '0xab' && f.topics?.[0]?.[0] === '0x01')).toBe(true);
  });

  it("reads a range to 'latest' up to the node's head, even past a stale head read", async () => {
    const { provider, filters } = chain(13n, 12n);
    const logs = await getLogsInRange(provider, {}, { from: 3n, to: 'latest' }, 4);
    expect(logs.map((l) => l.blockNumber)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    // Spans planned to the head read (12), the last one asked up to 'latest'.
    expect(filters.map((f) => [f.fromBlock, f.toBlock])).toEqual([
      [3n, 6n],
      [7n, 10n],
      [11n, 'latest'],
    ]);
  });
});

describe('isLogRangeError', () => {
  it.each([
    'query returned more than 10000 results',
    'Query returned more than 10000 results. Try with this block range [0x1, 0x2].',
    'block range is too wide',
    'exceed maximum block range: 5000',
    'logs matched by query exceeds limit of 10000',
    'Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the response size, or you can request any block range with a cap of 10K logs in the response.',
    'eth_getLogs is limited to a 10,000 range',
    'Block range limit exceeded.',
    'eth_getLogs range is too large, max is 10k blocks',
    'query exceeds max results 20000, retry with the range 1-2',
    'requested too many blocks from 1 to 5000, maximum is set to 2048',
  ])('recognizes %j', (message) => {
    expect(isLogRangeError(rpcError(message))).toBe(true);
  });

  it('recognizes a refusal sent with an HTTP error status (in the response body only)', () => {
    const body = '{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"block range too large"}}';
    const response = new FetchResponse(
      400,
      'Bad Request',
      {},
      toUtf8Bytes(body),
      new FetchRequest('http://rpc'),
    );
    expect(() => response.assertOk()).toThrow();
    try {
      response.assertOk();
    } catch (err) {
      expect(isLogRangeError(err)).toBe(true);
    }
  });

  it.each([
    rpcError('invalid block range params', -32000),
    rpcError('Too Many Requests', 429),
    rpcError('execution reverted'),
    makeError('request timeout', 'TIMEOUT', { operation: 'eth_getLogs', reason: 'timeout' }),
    new Error('fetch failed'),
    'not an error',
    null,
  ])('leaves other failures alone (%#)', (err) => {
    expect(isLogRangeError(err)).toBe(false);
  });
});
