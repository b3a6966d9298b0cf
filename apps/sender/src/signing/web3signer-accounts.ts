import { AppError } from '#app/common';
import { keccak256 } from '#app/ticket';
import { Web3SignerClient, type Web3SignerOptions } from './web3signer-client.js';
import { Web3SignerAccountSigner } from './web3signer-signer.js';

/** Signed once per account at boot: proves the signer holds the key it lists, before any ticket. */
const PROBE_HASH = keccak256(new TextEncoder().encode('ticketpay: web3signer account probe'));

export interface Web3SignerAccounts {
  client: Web3SignerClient;
  signers: Web3SignerAccountSigner[];
}

/**
 * Asks Web3Signer which accounts it holds (eth_accounts), keeps `wanted` (all of them when empty),
 * and has each sign one probe hash checked against its address. Problems (signer down, an
 * account it does not hold, a key that signs for another address) go to `problems`.
 */
export async function loadWeb3SignerAccounts(
  options: Web3SignerOptions,
  wanted: readonly string[],
  problems: string[],
): Promise<Web3SignerAccounts> {
  const client = new Web3SignerClient(options);
  const where = `SENDER_WEB3SIGNER_URL ${client.endpoint}`;
  let held: string[];
  try {
    held = await client.accounts();
  } catch (err) {
    problems.push(`${where}: ${describe(err)}`);
    return { client, signers: [] };
  }
  const missing = wanted.filter((a) => !held.includes(a));
  for (const a of missing) problems.push(`${where}: does not hold account ${a} (SENDER_WEB3SIGNER_ACCOUNTS)`);
  const chosen = wanted.length > 0 ? wanted.filter((a) => held.includes(a)) : [...new Set(held)];
  if (chosen.length === 0 && missing.length === 0) problems.push(`${where}: holds no account`);
  const signers: Web3SignerAccountSigner[] = [];
  for (const addressHex of chosen) {
    const signer = new Web3SignerAccountSigner(client, addressHex);
    try {
      await signer.signPersonal(PROBE_HASH);
      signers.push(signer);
    } catch (err) {
      problems.push(`${where}: account ${addressHex} failed its probe signature: ${describe(err)}`);
    }
  }
  return { client, signers };
}

function describe(err: unknown): string {
  return err instanceof AppError ? `${err.code}: ${err.message}` : 'unexpected error';
}
