import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AbiCoder, FetchRequest, Network, isError } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeanJsonRpcProvider } from './json-rpc-provider.js';

interface Call {
  id: number;
  method: string;
  params: unknown[];
}
type Answer = { id: number; result: unknown } | { id: number; error: Record<string, unknown> };

/** Error(string) revert data, as a node returns it with a revert. */
const revertData = (reason: string) =>
  '0x08c379a0' + AbiCoder.defaultAbiCoder().encode(['string'], [reason]).slice(2);

describe('LeanJsonRpcProvider', () => {
  let server: Server;
  /** Every HTTP body the node received, parsed. */
  let bodies: (Call | Call[])[];
  /** How the fake node answers one call; its answers to a batch come back in reverse order. */
  let answer: (call: Call) => Answer | undefined;
  let status: number;
  let provider: LeanJsonRpcProvider;

  const connect = (options: Record<string, unknown> = {}) => {
    const { port } = server.address() as AddressInfo;
    const network = Network.from(31337n);
    provider = new LeanJsonRpcProvider(new FetchRequest(`http://127.0.0.1:${port}`), network, {
      staticNetwork: network,
      ...options,
    });
    return provider;
  };

  beforeEach(async () => {
    bodies = [];
    status = 200;
    answer = (call) => ({ id: call.id, result: `${call.method}:${JSON.stringify(call.params)}` });
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Call | Call[];
        bodies.push(body);
        const answers = (Array.isArray(body) ? body : [body]).map(answer).filter((a) => a !== undefined);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(Array.isArray(body) ? answers.reverse() : answers[0]));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    provider?.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends the requests of one tick as one batch and gives each its own answer', async () => {
    const p = connect();
    const results = await Promise.all([1, 2, 3].map((n) => p.send('eth_getBalance', [`0x${n}`, 'latest'])));
    expect(results).toEqual([1, 2, 3].map((n) => `eth_getBalance:["0x${n}","latest"]`));
    expect(bodies).toHaveLength(1);
    const batch = bodies[0] as Call[];
    expect(batch.map((c) => c.method)).toEqual(['eth_getBalance', 'eth_getBalance', 'eth_getBalance']);
    expect(new Set(batch.map((c) => c.id)).size).toBe(3);
    expect(batch.every((c) => (c as unknown as { jsonrpc: string }).jsonrpc === '2.0')).toBe(true);
  });

  it('sends a lone request as a bare object, as ethers does', async () => {
    const p = connect();
    await expect(p.send('eth_blockNumber', [])).resolves.toBe('eth_blockNumber:[]');
    expect(Array.isArray(bodies[0])).toBe(false);
  });

  it('splits a burst by batchMaxCount and by batchMaxSize, in order', async () => {
    const p = connect({ batchMaxCount: 3 });
    await Promise.all([...Array(7).keys()].map((n) => p.send('eth_call', [n])));
    expect(bodies.map((b) => (Array.isArray(b) ? b.map((c) => c.params[0]) : [b.params[0]]))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6],
    ]);
    p.destroy();

    bodies = [];
    // Each request is ~60 bytes serialized: two fit in 150 bytes, a third does not.
    const q = connect({ batchMaxSize: 150 });
    await Promise.all([...Array(5).keys()].map((n) => q.send('eth_call', [`0x${n}`])));
    expect(bodies.map((b) => (Array.isArray(b) ? b.length : 1))).toEqual([2, 2, 1]);
    expect(bodies.every((b) => JSON.stringify(b).length <= 150)).toBe(true);
  });

  it('sends each request alone and at once with batchMaxCount 1', async () => {
    const p = connect({ batchMaxCount: 1 });
    await Promise.all([p.send('eth_chainId', []), p.send('eth_blockNumber', [])]);
    expect(bodies.map((b) => Array.isArray(b))).toEqual([false, false]);
  });

  it("rejects only the request the node refused, with ethers' own error for it", async () => {
    answer = (call) =>
      call.params[0] === 'bad'
        ? {
            id: call.id,
            error: { code: 3, message: 'execution reverted: no funds', data: revertData('no funds') },
          }
        : { id: call.id, result: '0x' };
    const p = connect();
    const [good, bad] = await Promise.allSettled([
      p.send('eth_call', ['good', 'latest']),
      p.send('eth_call', ['bad', 'latest']),
    ]);
    expect(good).toEqual({ status: 'fulfilled', value: '0x' });
    expect(bad.status).toBe('rejected');
    const err = (bad as PromiseRejectedResult).reason as Error;
    expect(isError(err, 'CALL_EXCEPTION')).toBe(true);
    expect((err as unknown as { reason: string }).reason).toBe('no funds');
  });

  it('reverts through provider.call as ethers reports them (CALL_EXCEPTION with the reason)', async () => {
    answer = (call) => ({
      id: call.id,
      error: { code: 3, message: 'execution reverted: used', data: revertData('used') },
    });
    const p = connect();
    const err = await p
      .call({ to: '0x0000000000000000000000000000000000000001', data: '0x1234' })
      .catch((e: unknown) => e);
    expect(isError(err, 'CALL_EXCEPTION')).toBe(true);
    expect((err as { reason: string }).reason).toBe('used');
  });

  it('rejects a request the node did not answer (BAD_DATA) and every request of a failed HTTP call', async () => {
    answer = (call) => (call.params[0] === 'lost' ? undefined : { id: call.id, result: 'ok' });
    const p = connect();
    const [kept, lost] = await Promise.allSettled([p.send('m', ['kept']), p.send('m', ['lost'])]);
    expect(kept).toEqual({ status: 'fulfilled', value: 'ok' });
    expect(isError((lost as PromiseRejectedResult).reason, 'BAD_DATA')).toBe(true);

    status = 500;
    const failed = await Promise.allSettled([p.send('m', [1]), p.send('m', [2])]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(isError((failed[0] as PromiseRejectedResult).reason, 'SERVER_ERROR')).toBe(true);
  });

  it('rejects queued requests when destroyed, and new ones after', async () => {
    const p = connect({ batchStallTime: 1_000 });
    const queued = p.send('eth_blockNumber', []);
    p.destroy();
    await expect(queued).rejects.toMatchObject({ code: 'UNSUPPORTED_OPERATION' });
    await expect(p.send('eth_blockNumber', [])).rejects.toMatchObject({ code: 'UNSUPPORTED_OPERATION' });
    expect(bodies).toHaveLength(0);
  });
});
