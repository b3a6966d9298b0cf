import {
  address,
  bool,
  ConfigError,
  configClass,
  hostPort,
  httpPortField,
  INFRA_ENV,
  L1_BLOCK_TIME_ENV,
  int,
  uint,
  ZERO_ADDRESS,
  type EnvSchema,
  type EnvValues,
} from '#app/common';
import {
  MAX_SENDER_NONCES,
  PARAMS_EXPIRY_BUFFER_BLOCKS,
  paramsLifeBoundMs,
  revealMarginBlocks,
} from '#app/ticket';
import { SLICED_MIN_TICKETS } from './payment/sliced-verifier.js';
import type { HeadLimits } from './chain-head.js';

/** 32 bytes as 64 hex digits, `0x` optional. The message never echoes the value (secrets use it). */
function key32(raw: string): Uint8Array {
  const hex = raw.startsWith('0x') ? raw.slice(2) : raw;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error('expected 32 bytes as 64 hex digits');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function positive(parse: (raw: string) => bigint): (raw: string) => bigint {
  return (raw) => {
    const v = parse(raw);
    if (v === 0n) throw new Error('expected a positive integer');
    return v;
  };
}

/** A block count in [min, max], as the bigint block arithmetic uses it. */
function blocks(min: number, max: number): (raw: string) => bigint {
  const parse = int(min, max);
  return (raw) => BigInt(parse(raw));
}

export const RECIPIENT_ENV = {
  ...INFRA_ENV,
  ...L1_BLOCK_TIME_ENV,
  RECIPIENT_GRPC_URL: { parse: hostPort, default: '127.0.0.1:8931', description: 'gRPC listen address' },
  RECIPIENT_HTTP_PORT: httpPortField(8921),
  RECIPIENT_ADDRESS: {
    parse: address,
    description: "the orchestrator's ETH address: tickets name it as recipient and it claims the reserves",
  },

  RECIPIENT_SENDER_MONITOR_URL: {
    parse: hostPort,
    optional: true,
    description:
      'host:port of the SenderMonitor service giving max floats and sender validity; ' +
      'unset = read them from the chain views directly',
  },

  // Face value and win probability (PROTOCOL.md §5.2, defaults from §13).
  RECIPIENT_TICKET_EV: {
    parse: positive(uint),
    default: 8_000_000_000n,
    description: 'target expected value per ticket in wei (go-livepeer -ticketEV)',
  },
  RECIPIENT_REDEEM_GAS: {
    parse: positive(uint),
    optional: true,
    description:
      'gas one redemption is assumed to cost when face values are priced; unset: 1200000 on ' +
      "an Arbitrum chain (its blocks carry l1BlockNumber), else 350000 (go-livepeer's redeemGas of the network)",
  },
  RECIPIENT_TX_COST_MULTIPLIER: {
    parse: positive(uint),
    default: 100n,
    description: 'face value = redeem gas × gas price × this',
  },
  RECIPIENT_MAX_FACE_VALUE: {
    parse: uint,
    default: 0n,
    description: 'cap on the face value in wei; 0 = no cap (go-livepeer -maxFaceValue)',
  },
  RECIPIENT_PARAMS_EXPIRY_BLOCKS: {
    // Senders refuse params with 1 block or less to go (go-livepeer paramsExpiryBuffer); past about
    // a round (5760 L1 blocks) winners would wait so long to be revealed that they could age out.
    parse: blocks(Number(PARAMS_EXPIRY_BUFFER_BLOCKS) + 1, 5_760),
    default: 40n,
    description:
      'params expire this many L1 blocks after the last seen one, 2 to 5760 (go-livepeer 40); ' +
      'winners are redeemed only after that (the local demo uses 5)',
  },
  RECIPIENT_MAX_HEAD_AGE_SECONDS: {
    parse: int(0, 7 * 24 * 3600),
    default: 120,
    description:
      'refuse new params and payments (CHAIN_UNAVAILABLE) once the chain head was last read this long ago: ' +
      'during a long RPC outage params would expire and tickets age out on chain unseen; 0 = never',
  },
  RECIPIENT_MAX_HEAD_STALL_SECONDS: {
    parse: int(0, 7 * 24 * 3600),
    default: 120,
    description:
      'refuse new params and payments (CHAIN_UNAVAILABLE) once the chain head has stayed on one block this long: ' +
      'an RPC node out of sync keeps answering while params expire and recipientRand is revealed elsewhere. ' +
      'Winners stored here are revealed only the L1 blocks this many seconds hold (ETH_L1_BLOCK_SECONDS) + 1 after ' +
      'their params expire, so that no head this stale can still take their params; 0 = never (then 1 block after)',
  },
  RECIPIENT_PARAMS_TTL_SECONDS: {
    parse: int(60, 7 * 24 * 3600),
    default: 3_600,
    description:
      'how long issued params and their seen-nonce set stay in Redis; must outlast the params ' +
      '(2 × expiry blocks × ETH_L1_BLOCK_SECONDS + 60 s, as the Sender keeps its sessions): params older than this are refused as unknown',
  },

  // Replay protection and accounting.
  RECIPIENT_MAX_SENDER_NONCES: {
    parse: int(1, 1_000_000),
    default: MAX_SENDER_NONCES,
    description: 'distinct nonces accepted per set of params (go-livepeer maxSenderNonces)',
  },
  RECIPIENT_MAX_TICKETS_PER_SECOND_PER_SENDER: {
    parse: int(0, 10_000_000),
    default: 0,
    description: 'accepted tickets per second one sender may send, over all replicas; 0 = no cap',
  },
  RECIPIENT_MAX_TICKETS_PER_PAYMENT: {
    parse: int(1, 100_000),
    // More than one params' nonce cap could never all be recorded.
    default: MAX_SENDER_NONCES,
    description: 'a payment with more tickets is refused whole',
  },
  RECIPIENT_GRPC_MAX_REQUEST_BYTES: {
    parse: int(1_024, 256 * 1024 * 1024),
    default: 4 * 1024 * 1024,
    description:
      'largest gRPC request message accepted, bytes (a ticket adds about 100 to a payment); a larger ' +
      'one is refused with RESOURCE_EXHAUSTED before it is decoded',
  },
  RECIPIENT_MAX_UNSECURED: {
    parse: uint,
    default: 0n,
    description: 'wei a (sender, job) balance may go below zero through debits (ILP maxUnsecured)',
  },
  RECIPIENT_BALANCE_TTL_SECONDS: {
    parse: int(60, 365 * 24 * 3600),
    default: 86_400,
    description: 'a (sender, job) balance untouched this long is dropped',
  },

  // The recipientRand HMAC secret (§5.1): given here, or generated once and stored encrypted.
  RECIPIENT_SECRET: {
    parse: key32,
    optional: true,
    secret: true,
    description: 'the HMAC secret itself (32 bytes hex); leave unset to generate and store one',
  },
  RECIPIENT_SECRET_KEY: {
    parse: key32,
    optional: true,
    secret: true,
    description: 'AES-256-GCM key (32 bytes hex) encrypting the generated secret in Postgres',
  },
  RECIPIENT_SECRET_ROTATION_HOURS: {
    parse: int(0, 100_000),
    default: 0,
    description:
      'replace the stored secret when it is this old (the old one stays valid for its params); 0 = never',
  },

  // Workers.
  RECIPIENT_VERIFY_SLICE_MS: {
    parse: int(0, 1_000),
    default: 1,
    description:
      `signatures of payments of ${SLICED_MIN_TICKETS} or more tickets verified on the main thread per ` +
      'event-loop turn, in ms of work, a turn apart, so a burst of payments is answered as it goes; 0 = each at once',
  },
  RECIPIENT_RECOVERY_HELPER: {
    parse: bool,
    default: true,
    description:
      'one helper thread shares the signature recoveries of each event-loop turn with the main thread, ' +
      'woken through shared memory (unused on a single core)',
  },
  RECIPIENT_VALIDATION_THREADS: {
    parse: int(0, 256),
    default: 0,
    description: 'worker threads verifying signatures of large payments; 0 = verify on the main thread',
  },
  RECIPIENT_POOL_MIN_TICKETS: {
    parse: int(1, 100_000),
    default: 64,
    description: 'payments with at least this many tickets go to the worker threads (when there are any)',
  },
  RECIPIENT_RECONCILE_INTERVAL_SECONDS: {
    parse: int(1, 86_400),
    default: 60,
    description:
      'how often stored winning tickets of `RECIPIENT_ADDRESS` without a redemption job are re-enqueued',
  },
} satisfies EnvSchema;

export type RecipientEnv = EnvValues<typeof RECIPIENT_ENV>;

export class RecipientConfig extends configClass(RECIPIENT_ENV) {
  constructor(values: RecipientEnv) {
    super(values);
    const problems: string[] = [];
    if (values.RECIPIENT_SECRET && values.RECIPIENT_SECRET_KEY) {
      problems.push('set either RECIPIENT_SECRET or RECIPIENT_SECRET_KEY, not both');
    }
    if (!values.RECIPIENT_SECRET && !values.RECIPIENT_SECRET_KEY) {
      problems.push(
        'RECIPIENT_SECRET or RECIPIENT_SECRET_KEY is required (the recipientRand secret must survive restarts)',
      );
    }
    if (values.RECIPIENT_SECRET && values.RECIPIENT_SECRET_ROTATION_HOURS > 0) {
      problems.push(
        'RECIPIENT_SECRET_ROTATION_HOURS needs a stored secret (RECIPIENT_SECRET_KEY), not RECIPIENT_SECRET',
      );
    }
    if (values.RECIPIENT_ADDRESS === ZERO_ADDRESS)
      problems.push('RECIPIENT_ADDRESS must not be the zero address');
    // Params whose record expires first are refused as unknown while still valid on chain.
    const paramsLifeSeconds =
      paramsLifeBoundMs(values.RECIPIENT_PARAMS_EXPIRY_BLOCKS, values.ETH_L1_BLOCK_SECONDS) / 1000n;
    if (BigInt(values.RECIPIENT_PARAMS_TTL_SECONDS) < paramsLifeSeconds) {
      problems.push(
        `RECIPIENT_PARAMS_TTL_SECONDS (${values.RECIPIENT_PARAMS_TTL_SECONDS}) must outlast the params: ` +
          `2 × RECIPIENT_PARAMS_EXPIRY_BLOCKS × ETH_L1_BLOCK_SECONDS (${values.ETH_L1_BLOCK_SECONDS}) + 60 s = ${paramsLifeSeconds} s`,
      );
    }
    if (problems.length > 0) throw new ConfigError(problems);
  }

  /**
   * L1 blocks past their params' expiry before the recipientRand of winners stored here may be
   * revealed: enough that this Recipient, judging on a head as stale as headLimits allows, no
   * longer takes those params (revealMarginBlocks). Stored with each winner for the Redeemer.
   */
  revealMarginBlocks(): number {
    return revealMarginBlocks(this.values.RECIPIENT_MAX_HEAD_STALL_SECONDS, this.values.ETH_L1_BLOCK_SECONDS);
  }

  /** How stale a head params and payments may still be judged on (currentHead). */
  headLimits(): HeadLimits {
    return {
      maxAgeMs: this.values.RECIPIENT_MAX_HEAD_AGE_SECONDS * 1000,
      maxStallMs: this.values.RECIPIENT_MAX_HEAD_STALL_SECONDS * 1000,
    };
  }
}
