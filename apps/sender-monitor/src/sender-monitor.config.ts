import {
  address,
  ConfigError,
  configClass,
  hostPort,
  httpPortField,
  INFRA_ENV,
  int,
  ZERO_ADDRESS,
  type EnvValues,
} from '#app/common';
import { ETH_LOGS_ENV } from '#app/chain';
import { SENDER_MONITOR_DEFAULT_GRPC_URL } from '#app/clients';

/** Comma-separated addresses, lowercase, without duplicates. */
function addressList(raw: string): string[] {
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new Error('expected comma-separated addresses');
  return [...new Set(parts.map(address))];
}

const SECOND = 1;
const DAY_SECONDS = 86_400;

export const SENDER_MONITOR_ENV = {
  ...INFRA_ENV,
  ...ETH_LOGS_ENV,
  SENDER_MONITOR_GRPC_URL: {
    parse: hostPort,
    default: SENDER_MONITOR_DEFAULT_GRPC_URL,
    description: 'gRPC listen address',
  },
  SENDER_MONITOR_HTTP_PORT: httpPortField(8925),
  SENDER_MONITOR_RECIPIENTS: {
    parse: addressList,
    default: [] as string[],
    description:
      'recipient (orchestrator) addresses served, comma-separated; the first is the one net.TicketRedeemer answers for',
  },
  SENDER_MONITOR_POLL_INTERVAL_MS: {
    parse: int(20, 600_000),
    default: 2_000,
    description: 'how often the chain head is polled (go-livepeer -blockPollingInterval: 5 s)',
  },
  SENDER_MONITOR_SENDER_TTL_SECONDS: {
    parse: int(1, 365 * DAY_SECONDS),
    default: 2 * DAY_SECONDS,
    description: 'a sender not asked about for this long (and without subscribers) is forgotten',
  },
  SENDER_MONITOR_CLEANUP_INTERVAL_SECONDS: {
    parse: int(SECOND, DAY_SECONDS),
    default: 600,
    description: 'how often idle senders are looked for',
  },
  SENDER_MONITOR_MAX_BACKFILL_BLOCKS: {
    parse: int(1, 100_000_000),
    default: 100_000,
    description: 'longer gaps (long outages) are not replayed from logs: the cached senders are re-read',
  },
  SENDER_MONITOR_RPC_TIMEOUT_MS: {
    parse: int(100, 600_000),
    default: 20_000,
    description:
      "timeout of each chain RPC request of the watchers (go-livepeer's ethRPCTimeout; its other " +
      'chain reads take ETH_RPC_TIMEOUT_MS)',
  },
};

/** Checks between settings, which parseEnv (one field at a time) cannot make. */
function crossFieldProblems(v: EnvValues<typeof SENDER_MONITOR_ENV>): string[] {
  const problems: string[] = [];
  if (v.SENDER_MONITOR_RECIPIENTS.includes(ZERO_ADDRESS)) {
    problems.push('SENDER_MONITOR_RECIPIENTS must not contain the zero address');
  }
  return problems;
}

export class SenderMonitorConfig extends configClass(SENDER_MONITOR_ENV) {
  constructor(values: EnvValues<typeof SENDER_MONITOR_ENV>) {
    super(values);
    const problems = crossFieldProblems(values);
    if (problems.length > 0) throw new ConfigError(problems);
  }
}
