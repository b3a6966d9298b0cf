import { Wallet } from 'ethers';
import { ANVIL_PRIVATE_KEYS, deployProtocol, startAnvil, type AnvilInstance } from '#app/testing';
import { startJsonRpcProxy, type JsonRpcProxy } from './json-rpc-proxy.js';

/** A dev chain with the protocol deployed (no recipients), reachable directly and behind a JSON-RPC proxy. */
export interface ProxiedProtocol {
  anvil: AnvilInstance;
  proxy: JsonRpcProxy;
  controller: string;
  stop(): Promise<void>;
}

export async function startProxiedProtocol(): Promise<ProxiedProtocol> {
  const anvil = await startAnvil();
  const deployer = new Wallet(ANVIL_PRIVATE_KEYS[0], anvil.provider);
  const { controller } = await deployProtocol(deployer, { recipients: [] });
  const proxy = await startJsonRpcProxy(anvil.url);
  return {
    anvil,
    proxy,
    controller,
    async stop() {
      await proxy.stop();
      await anvil.stop();
    },
  };
}
