import { existsSync, readFileSync } from 'node:fs';
import {
  address,
  bool,
  bearerToken,
  configClass,
  ConfigError,
  httpPortField,
  INFRA_ENV,
  int,
  str,
  uint,
  type EnvSchema,
  type EnvValues,
} from '#app/common';
import { ETH_LOGS_ENV, MIN_REPLACEMENT_BUMP_PERCENT, type SignerSource } from '#app/chain';
import { DEFAULT_PARAMS_EXPIRY_MARGIN_BLOCKS } from '#app/queue';
import type { GasLimits } from './redemption/gas-cost.js';

/** An exact ratio (no floats near money): `0.25` → 25/100. */
export interface Ratio {
  num: bigint;
  den: bigint;
  /** The decimal it was written as, so the configuration can be logged. */
  toJSON(): string;
}

export function ratio(raw: string): Ratio {
  const m = /^(\d+)(?:\.(\d{1,18}))?$/.exec(raw);
  if (!m) throw new Error('expected a non-negative decimal number, e.g. 0.2');
  const frac = m[2] ?? '';
  return { num: BigInt(m[1] + frac), den: 10n ** BigInt(frac.length), toJSON: () => raw };
}

function privateKey(raw: string): string {
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(raw)) throw new Error('expected 32 bytes of hex');
  return raw.startsWith('0x') ? raw : `0x${raw}`;
}

function readableFile(raw: string): string {
  if (!existsSync(raw)) throw new Error('no such file');
  return raw;
}

/** Comma-separated addresses, or `*` for every recipient. */
function recipientList(raw: string): readonly string[] | 'any' {
  if (raw.trim() === '*') return 'any';
  const list = raw
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (list.length === 0) throw new Error('expected at least one address');
  if (list.includes('*')) throw new Error('* (every recipient) cannot be combined with addresses');
  const addresses = list.map(address);
  const twice = addresses.find((a, i) => addresses.indexOf(a) !== i);
  if (twice) throw new Error(`${twice} is listed twice`);
  return addresses;
}

const ms = (min: number, max: number, dflt: number, description: string) =>
  ({ parse: int(min, max), default: dflt, description }) as const;

export const REDEEMER_ENV = {
  ...INFRA_ENV,
  ...ETH_LOGS_ENV,

  REDEEMER_HTTP_PORT: httpPortField(8933),

  // The signing account. None configured: the service boots, serves health and metrics, and redeems nothing.
  REDEEMER_KEYSTORE_FILE: {
    parse: readableFile,
    optional: true,
    description: 'encrypted JSON keystore (geth/ethers format) of the account that sends redemption txs',
  },
  REDEEMER_KEYSTORE_PASSWORD: {
    parse: str,
    optional: true,
    secret: true,
    description: 'password of REDEEMER_KEYSTORE_FILE',
  },
  REDEEMER_KEYSTORE_PASSWORD_FILE: {
    parse: readableFile,
    optional: true,
    description:
      'file holding the password of REDEEMER_KEYSTORE_FILE (alternative to REDEEMER_KEYSTORE_PASSWORD)',
  },
  REDEEMER_PRIVATE_KEY: {
    parse: privateKey,
    optional: true,
    secret: true,
    description:
      'development only: raw hex private key of the sending account (use a keystore in production)',
  },

  REDEEMER_RECIPIENTS: {
    parse: recipientList,
    optional: true,
    description:
      'comma-separated recipients this redeemer handles, or * for all (default: the signer, as go-livepeer ' +
      'does); each is served by one signer at a time: on overlap a redeemer serves none (see Services)',
  },
  REDEEMER_CONCURRENCY: { parse: int(1, 512), default: 32, description: 'BullMQ worker concurrency' },
  REDEEMER_BATCH_MAX_SIZE: {
    parse: int(1, 200),
    default: 16,
    description: 'most tickets per batchRedeemWinningTickets tx (1 = never batch)',
  },
  REDEEMER_BATCH_WINDOW_MS: ms(
    0,
    60_000,
    250,
    'how long ready tickets of a recipient are gathered into one batch',
  ),
  REDEEMER_MAX_TX_COST_RATIO: {
    parse: ratio,
    default: ratio('0.2'),
    description:
      'a ticket waits while gas estimate × gas price exceeds faceValue × this (in its last valid round: × at least 1)',
  },
  REDEEMER_MAX_GAS_PRICE: {
    parse: uint,
    default: 0n,
    description:
      'wei; tickets wait while the gas price is above it, and fee caps never exceed it (0 = no cap)',
  },
  REDEEMER_INITIALIZE_ROUND: {
    parse: bool,
    default: false,
    description:
      "initialize each new round nobody else has (go-livepeer -initializeRound): redemptions wait for it, and tickets kept waiting past their rounds expire; costs the signer a tx's gas per round it initializes",
  },
  REDEEMER_INITIALIZE_ROUND_MAX_DELAY_SECONDS: {
    parse: int(0, 3_600),
    default: 30,
    description:
      'longest random wait before initializing a round, s, so the nodes that do it seldom pay for the same call (go-livepeer -initializeRoundMaxDelay)',
  },
  REDEEMER_CONFIRMATIONS: {
    parse: int(1, 1_000),
    default: 2,
    description: 'blocks that make a mined tx final',
  },
  REDEEMER_STUCK_TX_BLOCKS: {
    parse: int(1, 100_000),
    default: 20,
    description: 'blocks without a receipt before a tx is replaced at the same nonce with bumped fees',
  },
  REDEEMER_FEE_BUMP_PERCENT: {
    // Nodes refuse a replacement that raises the fees less (geth's price bump).
    parse: int(MIN_REPLACEMENT_BUMP_PERCENT, 1_000),
    default: 20,
    description: 'fee rise per replacement',
  },
  REDEEMER_MAX_FEE_BUMPS: { parse: int(0, 1_000), default: 10, description: 'replacements per tx' },
  REDEEMER_PARAMS_EXPIRY_MARGIN_BLOCKS: {
    parse: int(0, 10_000),
    default: DEFAULT_PARAMS_EXPIRY_MARGIN_BLOCKS,
    description:
      'for a ticket stored without a reveal block (before it was recorded, or given by QueueTicket): L1 blocks after ' +
      'paramsExpirationBlock before recipientRand is revealed (the SenderMonitor times new jobs for the default); ' +
      'a ticket the Recipient stored waits for the reveal block it stored, derived from its RECIPIENT_MAX_HEAD_STALL_SECONDS',
  },
  REDEEMER_ROUND_END_MARGIN_BLOCKS: {
    parse: int(0, 10_000),
    default: 3,
    description:
      'no redemption tx is sent while fewer than this many L1 blocks of the round are left (one mined ' +
      'in the next round reverts), except for tickets in their last valid round (held, they would expire); ' +
      'a floor, raised to the most L1 blocks recent txs took to be mined; 0 = off',
  },
  REDEEMER_POLL_MS: ms(
    20,
    3_600_000,
    5_000,
    'how often a waiting ticket (params, funds, gas) is checked again',
  ),
  REDEEMER_TX_POLL_MS: ms(20, 600_000, 1_000, 'how often pending txs are checked'),
  REDEEMER_RETRY_BASE_MS: ms(
    10,
    3_600_000,
    2_000,
    'first back-off after a retryable failure (doubles each time)',
  ),
  REDEEMER_RETRY_MAX_MS: ms(10, 86_400_000, 300_000, 'longest back-off'),
  REDEEMER_SETTLE_WAIT_MS: ms(
    0,
    3_600_000,
    30_000,
    'how long a job waits for its tx before yielding its slot',
  ),
  REDEEMER_SENDER_FUNDS_TIMEOUT_MS: ms(
    100,
    600_000,
    5_000,
    "longest a funds check may hold its senders' lock (other Redeemers of those senders wait); past it the lock is released and the tickets retried",
  ),
  REDEEMER_RECONCILE_INTERVAL_MS: ms(
    100,
    86_400_000,
    30_000,
    'how often lost jobs are rebuilt from Postgres',
  ),
  REDEEMER_OPS_TOKEN: {
    parse: bearerToken,
    optional: true,
    secret: true,
    description:
      'bearer token of the /ops HTTP endpoints (redeem now, withdraw fees, status); unset = no /ops',
  },
} satisfies EnvSchema;

export class RedeemerConfig extends configClass(REDEEMER_ENV) {
  constructor(values: EnvValues<typeof REDEEMER_ENV>) {
    super(values);
    const problems = crossFieldProblems(values);
    if (problems.length > 0) throw new ConfigError(problems);
  }

  /** Recipients whose tickets are handled (lowercase), or undefined for all. */
  servedRecipients(signer: string): readonly string[] | undefined {
    const list = this.values.REDEEMER_RECIPIENTS;
    if (list === 'any') return undefined;
    return list ?? [signer.toLowerCase()];
  }

  /** The gas price cap and the tx cost ratio a ticket waits under (gasCostWait). */
  gasLimits(): GasLimits {
    return {
      maxGasPrice: this.values.REDEEMER_MAX_GAS_PRICE,
      maxCostRatio: this.values.REDEEMER_MAX_TX_COST_RATIO,
    };
  }

  /** Where the signing key comes from, or undefined when none is configured (redemption disabled). */
  signerSource(): SignerSource | undefined {
    const v = this.values;
    if (v.REDEEMER_PRIVATE_KEY) return { kind: 'private-key', privateKey: v.REDEEMER_PRIVATE_KEY };
    if (!v.REDEEMER_KEYSTORE_FILE) return undefined;
    const password =
      v.REDEEMER_KEYSTORE_PASSWORD ??
      readFileSync(v.REDEEMER_KEYSTORE_PASSWORD_FILE!, 'utf8').replace(/\r?\n$/, '');
    return { kind: 'keystore', json: readFileSync(v.REDEEMER_KEYSTORE_FILE, 'utf8'), password };
  }
}

function crossFieldProblems(v: EnvValues<typeof REDEEMER_ENV>): string[] {
  const problems: string[] = [];
  const keystore = v.REDEEMER_KEYSTORE_FILE !== undefined;
  const password =
    v.REDEEMER_KEYSTORE_PASSWORD !== undefined || v.REDEEMER_KEYSTORE_PASSWORD_FILE !== undefined;
  if (v.REDEEMER_PRIVATE_KEY !== undefined && keystore) {
    problems.push('set either REDEEMER_PRIVATE_KEY or REDEEMER_KEYSTORE_FILE, not both');
  }
  if (keystore && !password) {
    problems.push(
      'REDEEMER_KEYSTORE_FILE needs REDEEMER_KEYSTORE_PASSWORD or REDEEMER_KEYSTORE_PASSWORD_FILE',
    );
  }
  if (!keystore && password) problems.push('a keystore password is set but REDEEMER_KEYSTORE_FILE is not');
  if (v.REDEEMER_KEYSTORE_PASSWORD !== undefined && v.REDEEMER_KEYSTORE_PASSWORD_FILE !== undefined) {
    problems.push('set either REDEEMER_KEYSTORE_PASSWORD or REDEEMER_KEYSTORE_PASSWORD_FILE, not both');
  }
  if (v.REDEEMER_RETRY_BASE_MS > v.REDEEMER_RETRY_MAX_MS) {
    problems.push('REDEEMER_RETRY_BASE_MS must not exceed REDEEMER_RETRY_MAX_MS');
  }
  // The floored gas price would always be above the cap: every ticket would wait until it expires.
  if (v.REDEEMER_MAX_GAS_PRICE > 0n && v.ETH_MIN_GAS_PRICE > v.REDEEMER_MAX_GAS_PRICE) {
    problems.push(
      'ETH_MIN_GAS_PRICE must not exceed REDEEMER_MAX_GAS_PRICE (nothing could ever be redeemed)',
    );
  }
  return problems;
}
