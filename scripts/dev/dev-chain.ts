import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { deployProtocol } from '#app/chain';
import { ANVIL_PRIVATE_KEYS, startAnvil, type AnvilInstance } from '#app/testing';

export interface DevChain {
  rpcUrl: string;
  controller: string;
  anvil: AnvilInstance;
}

/** Anvil account 1 plays the demo orchestrator (registered recipient) of the local stack. */
export const DEMO_RECIPIENT_KEY = ANVIL_PRIVATE_KEYS[1];

/**
 * Starts anvil with its state kept in `stateDir`, and deploys the contracts unless the saved
 * deployment is still on that chain, so a second `npm start` reuses everything.
 */
export async function startDevChain(stateDir: string): Promise<DevChain> {
  mkdirSync(stateDir, { recursive: true });
  const deploymentFile = join(stateDir, 'deployment.json');
  const anvil = await startAnvil({
    blockTime: 1,
    extraArgs: ['--state', join(stateDir, 'anvil-state.json')],
  });
  if (existsSync(deploymentFile)) {
    const saved = JSON.parse(readFileSync(deploymentFile, 'utf8')) as { controller: string };
    if ((await anvil.provider.getCode(saved.controller)) !== '0x') {
      return { rpcUrl: anvil.url, controller: saved.controller, anvil };
    }
  }
  const deployer = new Wallet(ANVIL_PRIVATE_KEYS[0], anvil.provider);
  const deployed = await deployProtocol(deployer, { recipients: [new Wallet(DEMO_RECIPIENT_KEY).address] });
  writeFileSync(deploymentFile, JSON.stringify(deployed, null, 2));
  return { rpcUrl: anvil.url, controller: deployed.controller, anvil };
}
