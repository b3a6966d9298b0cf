import { JsonRpcApiProvider, toQuantity, type Signer } from 'ethers';
import { ChainError, ChainErrorCode, roundsManagerAt, serviceRegistryAt } from '#app/chain';

/**
 * Dev/test helper (anvil only): mines up to the next round boundary and initializes that round,
 * as a keeper would on a live chain. Returns the round now current and initialized.
 *
 * Reads are pinned to a freshly fetched block number because ethers briefly caches identical
 * calls, which would otherwise return the previous round right after mining.
 */
export async function advanceToNextRound(signer: Signer, roundsManagerAddress: string): Promise<bigint> {
  const provider = signer.provider;
  if (!(provider instanceof JsonRpcApiProvider)) {
    throw new ChainError(
      ChainErrorCode.UNSUPPORTED_PROVIDER,
      'advanceToNextRound needs a JSON-RPC provider (anvil)',
    );
  }
  const roundsManager = roundsManagerAt(roundsManagerAddress, signer);
  const blockTag = Number(await provider.send('eth_blockNumber', []));
  const [startBlock, roundLength] = await Promise.all([
    roundsManager.currentRoundStartBlock({ blockTag }),
    roundsManager.roundLength({ blockTag }),
  ]);
  // Mine until the latest block is the first of the next round, so both eth_call/estimateGas
  // (evaluated at latest) and the initializeRound tx (mined in the block after) see the new round.
  const blocksToMine = startBlock + roundLength - BigInt(blockTag);
  if (blocksToMine > 0n) await provider.send('anvil_mine', [toQuantity(blocksToMine)]);
  const nonce = await freshPendingNonce(signer);
  const receipt = await (await roundsManager.initializeRound({ nonce })).wait();
  return roundsManager.lastInitializedRound({ blockTag: receipt!.blockNumber });
}

/**
 * The signer's next nonce, read past ethers' short-lived request cache: a Wallet asking for its
 * nonce again within ~250 ms of its previous tx would otherwise reuse that tx's nonce.
 */
export async function freshPendingNonce(signer: Signer): Promise<number> {
  const provider = signer.provider;
  if (!(provider instanceof JsonRpcApiProvider)) return signer.getNonce('pending');
  return Number(await provider.send('eth_getTransactionCount', [await signer.getAddress(), 'pending']));
}

/**
 * Dev/test helper: `account` publishes `serviceUri` as its own ServiceRegistry entry, as an
 * orchestrator does for `-serviceAddr` (an empty string withdraws it). Resolves once mined.
 */
export async function setServiceUri(
  account: Signer,
  serviceRegistryAddress: string,
  serviceUri: string,
): Promise<void> {
  const registry = serviceRegistryAt(serviceRegistryAddress, account);
  const nonce = await freshPendingNonce(account);
  await (await registry.setServiceURI(serviceUri, { nonce })).wait();
}
