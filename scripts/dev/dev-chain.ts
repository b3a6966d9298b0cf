import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonRpcProvider, Network, Wallet } from 'ethers';
import { ChainError, ChainErrorCode, discoverAddresses, roundsManagerAt } from '#app/chain';
import {
  ANVIL_CHAIN_ID,
  ANVIL_PRIVATE_KEYS,
  anvilBinaryPath,
  freePort,
  deployProtocol,
  type DeployedProtocol,
} from '#app/testing';
import type { ProcessGroup } from './process-group.js';

export interface DevChain {
  rpcUrl: string;
  controller: string;
  addresses: DeployedProtocol['addresses'];
  provider: JsonRpcProvider;
}

/** Anvil account 0 deploys the contracts and initializes rounds. */
export const DEPLOYER_KEY = ANVIL_PRIVATE_KEYS[0];
/** Anvil account 1 plays the demo orchestrator (registered recipient) of the local stack. */
export const DEMO_RECIPIENT_KEY = ANVIL_PRIVATE_KEYS[1];
/** Anvil account 2 is the demo broadcaster's sender account. */
export const DEMO_SENDER_KEY = ANVIL_PRIVATE_KEYS[2];

/**
 * Starts anvil (1 s blocks of `blockGasLimit` gas) with its state in `stateDir`, saved every few seconds and on exit, and
 * deploys the contracts unless the saved deployment is still on that chain, so a second
 * `npm start` reuses everything.
 */
export async function startDevChain(
  stateDir: string,
  group: ProcessGroup,
  onUnexpectedExit: () => void,
  blockGasLimit: number,
): Promise<DevChain> {
  mkdirSync(stateDir, { recursive: true });
  const deploymentFile = join(stateDir, 'deployment.json');
  const port = await freePort();
  const proc = group.start(
    'anvil',
    anvilBinaryPath(),
    [
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--chain-id',
      String(ANVIL_CHAIN_ID),
      '--block-time',
      '1',
      '--gas-limit',
      String(blockGasLimit),
      '--state',
      join(stateDir, 'anvil-state.json'),
      '--state-interval',
      '5',
      '--silent',
    ],
    { env: process.env, onUnexpectedExit },
  );
  const rpcUrl = `http://127.0.0.1:${port}`;
  const provider = new JsonRpcProvider(rpcUrl, Network.from(ANVIL_CHAIN_ID), {
    staticNetwork: true,
    pollingInterval: 100,
    cacheTimeout: -1,
  });
  await waitForRpc(provider, () => proc.exitCode !== null);

  if (existsSync(deploymentFile)) {
    const saved = JSON.parse(readFileSync(deploymentFile, 'utf8')) as DeployedProtocol;
    if ((await provider.getCode(saved.controller)) !== '0x') {
      // Discovered again, as the services will: a deployment saved before a contract was added
      // (e.g. the ServiceRegistry) lacks it, and is replaced rather than failing their boot.
      const addresses = await discoverAddresses(provider, saved.controller).catch((err: unknown) => {
        if (err instanceof ChainError && err.code === ChainErrorCode.CONTRACT_NOT_REGISTERED)
          return undefined;
        throw err;
      });
      if (addresses) return { rpcUrl, controller: saved.controller, addresses, provider };
    }
  }
  const deployer = new Wallet(DEPLOYER_KEY, provider);
  const deployed = await deployProtocol(deployer, { recipients: [new Wallet(DEMO_RECIPIENT_KEY).address] });
  writeFileSync(deploymentFile, JSON.stringify(deployed, null, 2));
  return { rpcUrl, controller: deployed.controller, addresses: deployed.addresses, provider };
}

async function waitForRpc(provider: JsonRpcProvider, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited()) throw new Error('anvil exited during start-up');
    try {
      await provider.getBlockNumber();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error('anvil did not answer within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Initializes each new round as soon as it starts, as a keeper does on a live network: tickets
 * are created in the last initialized round, and redemptions need the current one initialized.
 * Returns a function that stops it.
 */
export function startRoundKeeper(chain: DevChain, onError: (msg: string) => void): () => void {
  const signer = new Wallet(DEPLOYER_KEY, chain.provider);
  const rounds = roundsManagerAt(chain.addresses.roundsManager, signer);
  let stopped = false;
  let lastError = '';
  const tick = async () => {
    try {
      if (!(await rounds.currentRoundInitialized())) {
        // The pending nonce straight from anvil: ethers' cache may still hold the previous one.
        const nonce = Number(
          await chain.provider.send('eth_getTransactionCount', [signer.address, 'pending']),
        );
        const tx = await rounds.initializeRound({ nonce });
        await tx.wait();
      }
      lastError = '';
    } catch (err) {
      const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
      // A round another keeper initialized first is not worth a line; repeated errors once.
      if (!stopped && msg !== lastError && !/already initialized/.test(msg)) onError(`round keeper: ${msg}`);
      lastError = msg;
    }
    if (!stopped) timer = setTimeout(() => void tick(), 1_000);
  };
  let timer = setTimeout(() => void tick(), 0);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
