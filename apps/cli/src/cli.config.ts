import { address, bearerToken, INFRA_ENV, str, url, type EnvSchema, type EnvValues } from '#app/common';

/**
 * What the CLI reads from the environment; flags override it. Unlike a service, nothing is
 * required up front: each command asks for the settings it uses and says which one is missing.
 * KEYSTORE_PASSWORD is deliberately absent: parseEnv trims values and a password's spaces are part
 * of it, so the signer reads that one variable verbatim.
 */
export const CLI_ENV = {
  ETH_RPC_URL: INFRA_ENV.ETH_RPC_URL,
  CONTROLLER_ADDRESS: {
    parse: address,
    optional: true,
    description: 'address of the Livepeer Controller (or --controller)',
  },
  // No default: without it (and without a running `npm start`) the tickets commands say what to set.
  DATABASE_URL: { ...INFRA_ENV.DATABASE_URL, default: undefined, optional: true },
  REDIS_URL: INFRA_ENV.REDIS_URL,
  REDIS_PREFIX: INFRA_ENV.REDIS_PREFIX,
  REDEEMER_URL: {
    parse: url(['http', 'https'], { credentials: 'refused' }),
    optional: true,
    description:
      "the Redeemer's HTTP base URL, for `tickets redeem` through its ops endpoint (or --redeemer-url)",
  },
  // The Redeemer's and ops' own rule: a token they would refuse at boot is refused here too.
  REDEEMER_OPS_TOKEN: {
    parse: bearerToken,
    optional: true,
    secret: true,
    description: "bearer token of the Redeemer's /ops endpoints (its REDEEMER_OPS_TOKEN)",
  },
  KEYSTORE_FILE: {
    parse: str,
    optional: true,
    description: 'keystore of the signing account (or --keystore)',
  },
  KEYSTORE_DIR: {
    parse: str,
    optional: true,
    description: 'folder of `keystore new|import|list` (or --dir)',
  },
} satisfies EnvSchema;

export type CliEnv = EnvValues<typeof CLI_ENV>;
