import { JsonRpcApiProvider, getBigInt, toQuantity, type Provider } from 'ethers';

// JSON-RPC calls the tx path makes straight on the wire where the provider speaks JSON-RPC: ethers'
// richer paths parse or copy large payloads (signed txs, calldata) in pure JS, and the callers need
// only the node's answer.

/**
 * Sends signed tx bytes. Raw where possible: ethers' broadcastTransaction parses the tx again,
 * re-serializes it for its hash and recovers its sender (pure-JS secp256k1) to build a response
 * nobody here reads. Node errors are classified the same way (same JSON-RPC method).
 */
export async function broadcastRaw(provider: Provider, raw: string): Promise<void> {
  if (provider instanceof JsonRpcApiProvider) {
    await provider.send('eth_sendRawTransaction', [raw]);
    return;
  }
  await provider.broadcastTransaction(raw);
}

/**
 * Whether the node has the tx (pending or mined). Asked raw where possible: only presence matters,
 * and ethers would parse the whole tx (a batch's calldata is tens of kB).
 */
export async function nodeKnowsTx(provider: Provider, hash: string): Promise<boolean> {
  if (provider instanceof JsonRpcApiProvider) {
    return (await provider.send('eth_getTransactionByHash', [hash])) != null;
  }
  return (await provider.getTransaction(hash)) !== null;
}

/** A call of prepared calldata, as the node takes it. */
export interface RawCall {
  from: string;
  to: string;
  data: string;
  /** At most this much gas (eth_call); none for an estimate. */
  gas?: bigint;
}

/**
 * eth_call of prepared calldata at the latest block. Raw where possible: ethers would copy the
 * calldata through its pure-JS hex codecs three times (a redemption's is ~1 kB, and the Redeemer
 * runs one per ticket). The error is built by the same provider from the same JSON-RPC error.
 */
export async function callRaw(provider: Provider, call: RawCall): Promise<void> {
  if (provider instanceof JsonRpcApiProvider) {
    await provider.send('eth_call', [rpcCall(call), 'latest']);
    return;
  }
  await provider.call({ ...call, gasLimit: call.gas });
}

/** eth_estimateGas of prepared calldata, raw where possible (as callRaw). */
export async function estimateGasRaw(provider: Provider, call: RawCall): Promise<bigint> {
  if (provider instanceof JsonRpcApiProvider) {
    // Checked as ethers checks it: a node answering something else than a quantity is an error.
    return getBigInt((await provider.send('eth_estimateGas', [rpcCall(call)])) as string, '%response');
  }
  return provider.estimateGas({ ...call, gasLimit: call.gas });
}

/** The call's JSON-RPC object: hex as given (nodes take either case), the gas limit as a quantity. */
function rpcCall({ from, to, data, gas }: RawCall): Record<string, string> {
  return gas === undefined ? { from, to, data } : { from, to, data, gas: toQuantity(gas) };
}
