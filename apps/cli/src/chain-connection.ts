import { JsonRpcProvider, Network } from 'ethers';
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
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(CHAIN_ID_TIMEOUT_MS),
    });
    const body = (await res.json()) as { result?: unknown };
    if (typeof body.result !== 'string') throw new Error(`HTTP ${res.status}, no chain id in the answer`);
    chainId = BigInt(body.result);
  } catch (err) {
    throw new CliError(
      CliErrorCode.CHAIN_UNAVAILABLE,
      `the chain RPC (ETH_RPC_URL or --rpc-url) did not answer: ${describeFetchError(err)}`,
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

function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return `no answer within ${CHAIN_ID_TIMEOUT_MS / 1000} s`;
  const cause = err.cause as { code?: unknown } | undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (err.name === 'SyntaxError') return 'the answer is not JSON-RPC';
  return err.message;
}
