import { JsonRpcProvider, Network } from 'ethers';
import { readChainId } from '#app/chain';
import { CliError, CliErrorCode } from './cli.error.js';

const CHAIN_ID_TIMEOUT_MS = 10_000;

/**
 * A provider pinned to the chain id the RPC reports, asked once up front with a timeout: ethers
 * would otherwise retry network detection forever and print about it. Reads are not cached, so a
 * state read right after a transaction sees it.
 *
 * Error messages never contain the URL: it may embed an API key.
 */
export async function connectChain(rpcUrl: string): Promise<JsonRpcProvider> {
  let chainId: bigint;
  try {
    chainId = await readChainId(rpcUrl, CHAIN_ID_TIMEOUT_MS);
  } catch (err) {
    throw new CliError(
      CliErrorCode.CHAIN_UNAVAILABLE,
      `the chain RPC (ETH_RPC_URL or --rpc-url) did not answer: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const network = Network.from(chainId);
  return new JsonRpcProvider(rpcUrl, network, {
    staticNetwork: network,
    pollingInterval: 250,
    cacheTimeout: -1,
  });
}
