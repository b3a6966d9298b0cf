import { JsonRpcApiProvider, type Provider } from 'ethers';

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
