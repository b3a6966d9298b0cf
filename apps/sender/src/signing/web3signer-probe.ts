import { HealthProbe } from '#app/common';
import type { Web3SignerClient } from './web3signer-client.js';

/**
 * The Sender's /health entry for Web3Signer: up while it answers eth_accounts and still holds
 * every account the Sender signs with (a key removed from it after boot fails every batch).
 */
export class Web3SignerProbe extends HealthProbe {
  readonly name = 'web3signer';

  constructor(
    private readonly client: Web3SignerClient,
    private readonly accounts: readonly string[],
  ) {
    super();
  }

  async check(): Promise<Record<string, unknown>> {
    const held = new Set(await this.client.accounts({ queued: false }));
    const missing = this.accounts.filter((a) => !held.has(a));
    if (missing.length > 0) {
      throw new Error(`${this.client.endpoint} no longer holds account(s) ${missing.join(', ')}`);
    }
    return { accounts: this.accounts.length };
  }
}
