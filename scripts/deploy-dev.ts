import { JsonRpcProvider, Wallet } from 'ethers';
import { runMain, url, parseEnv } from '#app/common';
import { ANVIL_CHAIN_ID, ANVIL_PRIVATE_KEYS, deployProtocol } from '#app/testing';

/**
 * Deploys the dev contracts on a fresh dev chain (docker compose's `deploy` step) and prints the
 * Controller address. Idempotent: when EXPECT_CONTROLLER already has code, it does nothing.
 * Uses anvil's public test key, so it refuses any chain id other than anvil's.
 */
runMain(async () => {
  const env = parseEnv(
    {
      ETH_RPC_URL: { parse: url(['http', 'https']), description: 'dev chain JSON-RPC URL' },
      EXPECT_CONTROLLER: { parse: (s: string) => s, optional: true, description: 'skip if this has code' },
    },
    process.env,
  );
  const provider = new JsonRpcProvider(env.ETH_RPC_URL);
  const { chainId } = await provider.getNetwork();
  if (chainId !== BigInt(ANVIL_CHAIN_ID))
    throw new Error(`refusing to deploy dev contracts on chain ${chainId}`);
  if (env.EXPECT_CONTROLLER && (await provider.getCode(env.EXPECT_CONTROLLER)) !== '0x') {
    process.stdout.write(`${env.EXPECT_CONTROLLER}\n`);
  } else {
    const recipient = new Wallet(ANVIL_PRIVATE_KEYS[1]).address;
    const deployed = await deployProtocol(new Wallet(ANVIL_PRIVATE_KEYS[0], provider), {
      recipients: [recipient],
    });
    process.stdout.write(`${deployed.controller}\n`);
  }
  provider.destroy();
});
