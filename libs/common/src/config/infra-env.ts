import type { EnvSchema } from './env-schema.js';
import { L1_BLOCK_SECONDS } from '#app/ticket';
import { address, int, oneOf, port, str, uint, url } from './parsers.js';

/** A DNS name or IP address a TLS certificate may carry. */
function hostName(raw: string): string {
  if (
    raw.length > 253 ||
    !/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/.test(raw)
  ) {
    throw new Error('expected a host name such as sender-monitor.internal');
  }
  return raw;
}

/** GRPC_DRAIN_MS's default: a call in flight is a few Redis and Postgres round trips. */
export const DEFAULT_GRPC_DRAIN_MS = 10_000;

/**
 * The L1 block time, shared by the services that keep state as long as params live: the Sender
 * (its sessions) and the Recipient (its issued-params record must outlast them).
 */
export const L1_BLOCK_TIME_ENV = {
  ETH_L1_BLOCK_SECONDS: {
    parse: int(1, 3_600),
    default: L1_BLOCK_SECONDS,
    description:
      'seconds per L1 block (ETH_L1_BLOCK_SOURCE), at most: how long state tied to live params is kept ' +
      "(the Sender's sessions) and must be kept (the Recipient's RECIPIENT_PARAMS_TTL_SECONDS)",
  },
} satisfies EnvSchema;

/** Settings every service shares: where its stores and the chain are. Nothing else is assumed. */
export const INFRA_ENV = {
  DATABASE_URL: {
    parse: url(['postgres', 'postgresql']),
    default: 'postgres://postgres@127.0.0.1:5432/ticketpay',
    secret: true,
    description: 'PostgreSQL connection URL',
  },
  REDIS_URL: {
    parse: url(['redis', 'rediss']),
    default: 'redis://127.0.0.1:6379',
    secret: true,
    description: 'Redis connection URL',
  },
  REDIS_PREFIX: {
    parse: (raw: string) => {
      if (!/^[\w:.{}-]+$/.test(raw)) throw new Error('expected letters, digits and : . _ - { }');
      return raw;
    },
    default: 'ticketpay:',
    description: 'prefix of every Redis key, BullMQ included',
  },
  ETH_RPC_URL: {
    parse: url(['http', 'https']),
    default: 'http://127.0.0.1:8545',
    secret: true,
    description: 'Ethereum JSON-RPC endpoint (may embed an API key, or user:password@ sent as Basic auth)',
  },
  ETH_RPC_TIMEOUT_MS: {
    parse: int(500, 600_000),
    default: 5_000,
    description: 'how long one JSON-RPC request may take before it fails (the chain counts as unavailable)',
  },
  ETH_L1_BLOCK_SOURCE: {
    parse: oneOf(['auto', 'block', 'arbitrum'] as const),
    default: 'auto' as const,
    description:
      "where params expiry and rounds read the L1 block number: auto takes Arbitrum's l1BlockNumber " +
      'when the blocks carry one, else the block number; block and arbitrum force one and refuse the other',
  },
  ETH_MIN_GAS_PRICE: {
    parse: uint,
    default: 0n,
    description:
      "gas price floor in wei of every service's chain view: face values, tx cost multipliers, the " +
      "Redeemer's gas price cap and the SenderMonitor's reports (go-livepeer -minGasPrice: 1 gwei on L1, 0 on Arbitrum)",
  },
  CONTROLLER_ADDRESS: {
    parse: address,
    description: 'address of the Livepeer Controller; every other contract is discovered from it',
  },
  GRPC_TLS_CERT_FILE: {
    parse: str,
    optional: true,
    description: 'PEM certificate chain the gRPC server presents; with GRPC_TLS_KEY_FILE turns TLS on',
  },
  GRPC_TLS_KEY_FILE: {
    parse: str,
    optional: true,
    description: 'PEM private key of GRPC_TLS_CERT_FILE (the file is read, its path is not secret)',
  },
  GRPC_TLS_CLIENT_CA_FILE: {
    parse: str,
    optional: true,
    description: 'PEM CA bundle; when set, gRPC clients must present a certificate it signed (mTLS)',
  },
  GRPC_TLS_SERVER_CA_FILE: {
    parse: str,
    optional: true,
    description:
      'PEM CA bundle that signed the certificates of the gRPC servers this service calls (the SenderMonitor, ' +
      'from the Recipient and ops); when set, those calls use TLS',
  },
  GRPC_TLS_CLIENT_CERT_FILE: {
    parse: str,
    optional: true,
    description:
      'PEM certificate chain this service presents to the gRPC servers it calls (mTLS); ' +
      'needs GRPC_TLS_CLIENT_KEY_FILE and GRPC_TLS_SERVER_CA_FILE',
  },
  GRPC_TLS_CLIENT_KEY_FILE: {
    parse: str,
    optional: true,
    description: 'PEM private key of GRPC_TLS_CLIENT_CERT_FILE (the file is read, its path is not secret)',
  },
  GRPC_TLS_SERVER_NAME: {
    parse: hostName,
    optional: true,
    description:
      "name the called gRPC servers' certificates must carry, instead of the dialled host (e.g. for IP targets); " +
      'needs GRPC_TLS_SERVER_CA_FILE',
  },
  GRPC_DRAIN_MS: {
    parse: int(0, 60_000),
    default: DEFAULT_GRPC_DRAIN_MS,
    description:
      'how long a closing gRPC server (sender, recipient, sender-monitor) lets calls in flight finish before ' +
      'cutting them; it takes no new calls and ends its streams at once',
  },
  HTTP_HOST: { parse: str, default: '127.0.0.1', description: 'host for /health and /metrics' },
  LOG_FORMAT: {
    parse: oneOf(['json', 'text'] as const),
    default: 'json' as const,
    description: 'log output format',
  },
  LOG_LEVEL: {
    parse: oneOf(['debug', 'log', 'warn', 'error'] as const),
    default: 'log' as const,
    description:
      'least severe log level written; `debug` adds per-ticket and per-session lines (winners stored, ' +
      'sessions started and ended), which metrics count anyway',
  },
} satisfies EnvSchema;

export const httpPortField = (defaultPort: number) =>
  ({ parse: port, default: defaultPort, description: 'port for /health and /metrics' }) as const;
