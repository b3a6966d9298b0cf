import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainClient, ChainErrorCode, HttpRpcEndpoint, readChainId } from '#app/chain';
import { startProxiedProtocol, type ProxiedProtocol } from '../../support/proxied-protocol.js';

// An RPC reached with credentials in its URL (https://user:password@host/…, as some providers
// give it): every request of the services, the chain id first, carries them as HTTP Basic auth,
// and a wrong password is reported as such, never with the URL.

const USER = 'ticketpay';
const PASSWORD = 'pr0vider-secret';

let chain: ProxiedProtocol;
let anvil: ProxiedProtocol['anvil'];
let proxy: ProxiedProtocol['proxy'];
let controller: string;
let withCredentials: (password: string) => string;
const clients: ChainClient[] = [];

beforeAll(async () => {
  chain = await startProxiedProtocol();
  ({ anvil, proxy, controller } = chain);
  proxy.requireBasicAuth({ user: USER, password: PASSWORD });
  withCredentials = (password) => proxy.url.replace('http://', `http://${USER}:${password}@`);
});
afterAll(async () => {
  for (const c of clients) c.onApplicationShutdown();
  await chain?.stop();
});

describe('an RPC URL with user:password@', () => {
  it('the ChainClient connects, checks the Controller and reads the chain with the credentials', async () => {
    const client = new ChainClient({ rpcUrl: withCredentials(PASSWORD), controllerAddress: controller });
    clients.push(client);
    await client.onModuleInit();
    const block = await client.provider.getBlockNumber();
    expect(block).toBe(await anvil.provider.getBlockNumber());
    expect(proxy.unauthorized).toBe(0);
  });

  it("the watchers' endpoint connects with them too", async () => {
    const endpoint = new HttpRpcEndpoint(withCredentials(PASSWORD), 5_000);
    try {
      const provider = await endpoint.provider();
      expect((await provider.getNetwork()).chainId).toBe(31337n);
      expect(await provider.getBlockNumber()).toBe(await anvil.provider.getBlockNumber());
    } finally {
      endpoint.destroy();
    }
    expect(proxy.unauthorized).toBe(0);
  });

  it('a wrong password is an HTTP 401, said without the URL; the ChainClient stays unavailable', async () => {
    const rpcUrl = withCredentials('wrong-password');
    const err = await readChainId(rpcUrl, 5_000).catch((e: Error) => e);
    expect(err).toMatchObject({
      code: ChainErrorCode.CHAIN_UNAVAILABLE,
      message: 'eth_chainId: HTTP 401 Unauthorized',
    });
    const client = new ChainClient({ rpcUrl, controllerAddress: controller });
    clients.push(client);
    await client.onModuleInit();
    expect(() => client.provider).toThrow(
      expect.objectContaining({ code: ChainErrorCode.CHAIN_UNAVAILABLE }),
    );
    expect(proxy.unauthorized).toBeGreaterThanOrEqual(2);
  });
});
