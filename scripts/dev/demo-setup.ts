import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encryptKeystoreJson, parseEther, Wallet } from 'ethers';
import { ticketBrokerAt } from '#app/chain';
import { MAX_WIN_PROB } from '#app/ticket';
import { ensureDemoApiToken } from './demo-api-tokens.js';
import { DEMO_RECIPIENT_KEY, DEMO_SENDER_KEY, type DevChain } from './dev-chain.js';

/**
 * Demo economics: every ticket is worth 0.001 ETH in expectation and wins 0.01 ETH with
 * probability 1/10, so at a few tickets a second a winner appears within seconds. The recipient's
 * face value is pinned by its cap (the gas-based one on anvil is far above it).
 */
export const DEMO_TICKET_EV = parseEther('0.001');
export const DEMO_FACE_VALUE = parseEther('0.01');
/** Params expire 5 blocks (5 s) after issue; the redeemer reveals recipientRand only after that. */
export const DEMO_PARAMS_EXPIRY_BLOCKS = 5n;
/** The largest batch the Sender signs (SENDER_MAX_BATCH_SIZE's default, the nonce cap). */
export const DEMO_MAX_BATCH = 600n;

/**
 * The Sender's cap on one batch's EV, so that a full batch always passes. A ticket's real EV is
 * faceValue × winProb / MAX, and the Recipient rounds winProb up (winProbForEV): EV × (⌊MAX/F⌋ + 1)
 * × F / MAX < EV × (MAX + F) / MAX for any face value F. The bound grows with F, so it holds for
 * every face value up to the demo's cap (a low max float makes F smaller). EV × 600 alone misses
 * by a fraction of a wei.
 */
export const DEMO_MAX_TOTAL_EV = ceilDiv(
  DEMO_MAX_BATCH * DEMO_TICKET_EV * (MAX_WIN_PROB + DEMO_FACE_VALUE),
  MAX_WIN_PROB,
);
const DEMO_DEPOSIT = parseEther('10');
const DEMO_RESERVE = parseEther('10');
/** Below this deposit the demo sender is topped up on start. */
const DEMO_MIN_DEPOSIT = parseEther('1');

export interface DemoFiles {
  senderAddress: string;
  recipientAddress: string;
  recipientKey: string;
  keystoreDir: string;
  passwordFile: string;
  tokensFile: string;
  /** Sender API token of the demo broadcaster, and the file holding it. */
  apiToken: string;
  apiTokenFile: string;
  /** AES key encrypting the recipient's generated secret in Postgres; must survive restarts. */
  recipientSecretKey: string;
  /** Where the broadcaster keeps its counters across restarts. */
  countersFile: string;
  /** Bearer token of the ops API and dashboard, and the file holding it. */
  opsApiToken: string;
  opsApiTokenFile: string;
  /** Bearer token of the Redeemer's /ops endpoints (used by the ops API). */
  redeemerOpsToken: string;
}

/**
 * The demo's keys and config files under `<stateDir>/demo`, written once and reused: the demo
 * sender's keystore (anvil account 2), its password, the Sender API token, the recipient secret key.
 * They hold anvil's public dev keys and random local tokens only.
 */
export async function prepareDemoFiles(stateDir: string): Promise<DemoFiles> {
  const dir = join(stateDir, 'demo');
  const keystoreDir = join(dir, 'keystores');
  mkdirSync(keystoreDir, { recursive: true, mode: 0o700 });
  const sender = new Wallet(DEMO_SENDER_KEY);
  const recipient = new Wallet(DEMO_RECIPIENT_KEY);

  const passwordFile = join(dir, 'keystore-password');
  const password = readOrCreate(passwordFile, () => randomBytes(16).toString('hex'));
  const keystoreFile = join(keystoreDir, 'demo-sender.json');
  if (!existsSync(keystoreFile)) {
    // A low scrypt cost: the key is anvil's public one, and the Sender should boot quickly.
    const json = await encryptKeystoreJson(
      { address: sender.address, privateKey: sender.privateKey },
      password,
      {
        scrypt: { N: 1 << 10 },
      },
    );
    writeFileSync(keystoreFile, json, { mode: 0o600 });
  }
  const apiTokenFile = join(dir, 'api-token');
  const apiToken = readOrCreate(apiTokenFile, () => `demo-${randomBytes(24).toString('hex')}`);
  const tokensFile = join(dir, 'api-tokens.yaml');
  ensureDemoApiToken(tokensFile, apiToken, sender.address);
  const recipientSecretKey = readOrCreate(join(dir, 'recipient-secret-key'), () =>
    randomBytes(32).toString('hex'),
  );
  const opsApiTokenFile = join(dir, 'ops-api-token');
  const opsApiToken = readOrCreate(opsApiTokenFile, () => randomBytes(24).toString('hex'));
  const redeemerOpsToken = readOrCreate(join(dir, 'redeemer-ops-token'), () =>
    randomBytes(24).toString('hex'),
  );
  return {
    opsApiToken,
    opsApiTokenFile,
    redeemerOpsToken,
    senderAddress: sender.address,
    recipientAddress: recipient.address,
    recipientKey: recipient.privateKey,
    keystoreDir,
    passwordFile,
    tokensFile,
    apiToken,
    apiTokenFile,
    recipientSecretKey,
    countersFile: join(dir, 'counters.json'),
  };
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

function readOrCreate(path: string, make: () => string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return value;
}

/** Funds the demo sender's deposit and reserve when its deposit ran low (or on first start). */
export async function fundDemoSender(chain: DevChain): Promise<{ funded: boolean; deposit: bigint }> {
  const sender = new Wallet(DEMO_SENDER_KEY, chain.provider);
  const broker = ticketBrokerAt(chain.addresses.ticketBroker, sender);
  const info = await broker.getSenderInfo(sender.address);
  const deposit = info.sender.deposit;
  if (deposit >= DEMO_MIN_DEPOSIT && info.reserve.fundsRemaining >= DEMO_RESERVE / 2n) {
    return { funded: false, deposit };
  }
  const nonce = Number(await chain.provider.send('eth_getTransactionCount', [sender.address, 'pending']));
  const tx = await broker.fundDepositAndReserve(DEMO_DEPOSIT, DEMO_RESERVE, {
    value: DEMO_DEPOSIT + DEMO_RESERVE,
    nonce,
  });
  await tx.wait();
  return { funded: true, deposit: deposit + DEMO_DEPOSIT };
}
