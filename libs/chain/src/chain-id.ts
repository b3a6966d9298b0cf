import { FetchRequest } from 'ethers';
import { ChainError, ChainErrorCode } from './chain.error.js';
import { httpGetUrl } from './http-get-url.js';
import { redact } from './redact-rpc-url.js';

/** A JSON-RPC quantity: 0x and hex digits, no more than a uint256. */
const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/;

/**
 * The chain id the HTTP(S) JSON-RPC endpoint `rpcUrl` reports (`eth_chainId`), asked once with a
 * timeout: what a provider is pinned to before it is made, so that ethers never enters its own
 * endless network detection. The one place every service and the CLI ask it. It goes through the
 * providers' own transport, so a URL that carries `user:password@` is asked with those credentials
 * as the provider will be (Node's fetch refuses such a URL outright).
 *
 * Fails with CHAIN_UNAVAILABLE, `eth_chainId: ` and why (no answer in time, a socket error's code,
 * an HTTP status, not JSON-RPC, the node's JSON-RPC error, not a chain id), in a message that never
 * contains the URL; callers say which RPC it was.
 */
export async function readChainId(rpcUrl: string, timeoutMs: number): Promise<bigint> {
  let answer: unknown;
  try {
    const req = new FetchRequest(rpcUrl);
    req.getUrlFunc = httpGetUrl;
    req.timeout = timeoutMs;
    req.setHeader('content-type', 'application/json');
    req.body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] });
    const res = await req.send();
    if (!res.ok()) throw unavailable(`HTTP ${res.statusCode} ${res.statusMessage}`.trim(), rpcUrl);
    try {
      answer = JSON.parse(res.bodyText);
    } catch {
      throw unavailable('the answer is not JSON-RPC', rpcUrl);
    }
  } catch (err) {
    if (err instanceof ChainError) throw err;
    throw unavailable(transportProblem(err, timeoutMs), rpcUrl, err);
  }
  const { result, error } = (answer ?? {}) as { result?: unknown; error?: { message?: unknown } };
  if (error !== undefined) {
    const message = typeof error?.message === 'string' ? error.message : JSON.stringify(error);
    throw unavailable(`the node returned an error: ${message}`, rpcUrl);
  }
  if (typeof result !== 'string' || !QUANTITY.test(result) || BigInt(result) === 0n) {
    throw unavailable(`the answer ${JSON.stringify(result) ?? 'nothing'} is not a chain id`, rpcUrl);
  }
  return BigInt(result);
}

function unavailable(problem: string, rpcUrl: string, cause?: unknown): ChainError {
  return new ChainError(
    ChainErrorCode.CHAIN_UNAVAILABLE,
    redact(`eth_chainId: ${problem}`, rpcUrl),
    cause === undefined ? undefined : { cause },
  );
}

/** Why the request got no answer, in a few words (a socket error's code, a timeout). */
function transportProblem(err: unknown, timeoutMs: number): string {
  const e = err as { code?: unknown; shortMessage?: unknown; message?: unknown } | undefined;
  if (e?.code === 'TIMEOUT') return `no answer within ${timeoutMs / 1000} s`;
  if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code;
  if (typeof e?.shortMessage === 'string') return e.shortMessage;
  return typeof e?.message === 'string' ? e.message : String(err);
}
