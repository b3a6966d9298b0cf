import type { JsonRpcApiProvider } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainClient, RpcChainFacts, readHeader, type L1BlockSource } from '#app/chain';
import { startProxiedProtocol, type ProxiedProtocol } from '../../support/proxied-protocol.js';

// Where the services read "the L1 block" (params expiry, rounds), against the dev protocol on anvil
// as it is, and behind a proxy that writes each block as an Arbitrum node does (its
// `l1BlockNumber`, here a million above the block's own number).

const L1_OFFSET = 1_000_000n;

let chain: ProxiedProtocol;
let anvil: ProxiedProtocol['anvil'];
let proxy: ProxiedProtocol['proxy'];
let controller: string;
const clients: ChainClient[] = [];

beforeAll(async () => {
  chain = await startProxiedProtocol();
  ({ anvil, proxy, controller } = chain);
  proxy.editBlocks((block) => {
    block.l1BlockNumber = `0x${(BigInt(block.number as string) + L1_OFFSET).toString(16)}`;
  });
});
afterAll(async () => {
  for (const c of clients) c.onApplicationShutdown();
  await chain?.stop();
});

/** The chain facts a service reads through `rpcUrl` with `source`, read once (no poll loop). */
async function factsOf(rpcUrl: string, source: L1BlockSource): Promise<RpcChainFacts> {
  const client = new ChainClient({ rpcUrl, controllerAddress: controller });
  clients.push(client);
  await client.onModuleInit();
  return new RpcChainFacts(client, { l1BlockSource: source, pollIntervalMs: 100, minGasPrice: 0n });
}

describe('the L1 block source', () => {
  it("auto (the default) reads Arbitrum's l1BlockNumber where the blocks carry one, else the block number", async () => {
    const arbitrum = await (await factsOf(proxy.url, 'auto')).refresh();
    expect(arbitrum.l1Block).toBe(arbitrum.block + L1_OFFSET);
    const plain = await (await factsOf(anvil.url, 'auto')).refresh();
    expect(plain.l1Block).toBe(plain.block);
  });

  it('a forced source refuses the chain it rules out instead of reading the wrong block', async () => {
    await expect((await factsOf(proxy.url, 'block')).refresh()).rejects.toThrow(/L2 blocks/);
    await expect((await factsOf(anvil.url, 'arbitrum')).refresh()).rejects.toThrow(/no l1BlockNumber/);
    const forced = await (await factsOf(proxy.url, 'arbitrum')).refresh();
    expect(forced.l1Block).toBe(forced.block + L1_OFFSET);
  });

  it('the headers the watchers read (a head, a mined block) take the same source', async () => {
    const client = new ChainClient({ rpcUrl: proxy.url, controllerAddress: controller });
    clients.push(client);
    await client.onModuleInit();
    const head = await readHeader(client.provider as JsonRpcApiProvider, 'latest', 'auto');
    expect(head.l1Block).toBe(head.number + L1_OFFSET);
    expect((await readHeader(anvil.provider, 'latest', 'auto')).l1Block).toBe(head.number);
  });
});
