import {
  address,
  bool,
  configClass,
  hostPort,
  httpPortField,
  int,
  INFRA_ENV,
  L1_BLOCK_TIME_ENV,
  str,
  uint,
  url,
  type EnvSchema,
} from '#app/common';
import {
  MAX_REMOTE_TICKETS,
  MAX_SENDER_NONCE,
  MAX_SENDER_NONCES,
  parseDecimal,
  type Rational,
} from '#app/ticket';
import { parseCapabilityMaxPrices } from './remote-signer/capability-max-prices.js';
import { orchestratorServiceUrl } from './remote-signer/discovery/orchestrator-sources.js';

/** A comma-separated list of file paths; blanks between commas are ignored. */
function pathList(raw: string): string[] {
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** A comma-separated list of 0x addresses, lowercased. */
function addressList(raw: string): string[] {
  return pathList(raw).map((a) => address(a));
}

function minLength(min: number): (raw: string) => string {
  return (raw) => {
    if (raw.length < min) throw new Error(`must be at least ${min} characters`);
    return raw;
  };
}

/** go-livepeer's header list: `Key:Value,Key2:Value2`; names are HTTP tokens. */
function headerList(raw: string): [string, string][] {
  return raw
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '')
    .map((pair) => {
      const at = pair.indexOf(':');
      const name = at > 0 ? pair.slice(0, at).trim() : '';
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
        throw new Error('expected Key:Value pairs separated by commas');
      const value = pair.slice(at + 1).trim();
      // HTTP refuses control characters in a value (Go's client refuses such a request); other
      // bytes than ASCII would go out differently from Go (latin-1 here, UTF-8 there).
      if (!/^[\t\x20-\x7e]*$/.test(value)) throw new Error(`the value of ${name} must be printable ASCII`);
      return [name, value];
    });
}

/** go-livepeer's `-orchAddr` list, each entry as discovery dials it. */
function orchestratorList(raw: string): string[] {
  return pathList(raw).map(orchestratorServiceUrl);
}

function positiveDecimal(raw: string): Rational {
  return parseDecimal(raw, 'price');
}

const positiveUint = (raw: string): bigint => {
  const n = uint(raw);
  if (n === 0n) throw new Error('expected a positive integer');
  return n;
};

export const SENDER_ENV = {
  ...INFRA_ENV,
  ...L1_BLOCK_TIME_ENV,
  SENDER_GRPC_URL: { parse: hostPort, default: '127.0.0.1:8930', description: 'gRPC listen address' },
  SENDER_HTTP_PORT: httpPortField(8920),

  SENDER_KEYSTORE_DIR: {
    parse: str,
    optional: true,
    description: 'directory of Ethereum V3 keystore files (*.json or UTC--*), one sender account each',
  },
  SENDER_KEYSTORE_FILES: {
    parse: pathList,
    default: [] as string[],
    description: 'comma-separated Ethereum V3 keystore files, one sender account each',
  },
  SENDER_KEYSTORE_PASSWORD: {
    parse: str,
    optional: true,
    secret: true,
    description: 'password of the keystores (or use SENDER_KEYSTORE_PASSWORD_FILE)',
  },
  SENDER_KEYSTORE_PASSWORD_FILE: {
    parse: str,
    optional: true,
    description: 'file holding the password of the keystores (one trailing newline is ignored)',
  },
  SENDER_WEB3SIGNER_URL: {
    parse: url(['http', 'https']),
    optional: true,
    // user:password@ in it is sent as Basic auth.
    secret: true,
    description:
      'Web3Signer eth1 JSON-RPC URL: accounts whose keys it holds sign through its eth_sign (besides or instead of keystores)',
  },
  SENDER_WEB3SIGNER_ACCOUNTS: {
    parse: addressList,
    default: [] as string[],
    description:
      'comma-separated addresses to use from Web3Signer; empty = every account its eth_accounts lists',
  },
  SENDER_WEB3SIGNER_TIMEOUT_MS: {
    parse: int(100, 120_000),
    default: 5_000,
    description: 'deadline of one Web3Signer JSON-RPC call, ms',
  },
  SENDER_WEB3SIGNER_MAX_IN_FLIGHT: {
    parse: int(1, 1_024),
    default: 32,
    description: 'Web3Signer calls in flight at once (a batch of n tickets is n eth_sign calls)',
  },
  SENDER_WEB3SIGNER_TLS_CA_FILE: {
    parse: str,
    optional: true,
    description: 'PEM CA certificates to trust for an https SENDER_WEB3SIGNER_URL (default: the system CAs)',
  },
  SENDER_WEB3SIGNER_TLS_CERT_FILE: {
    parse: str,
    optional: true,
    description:
      'PEM client certificate for Web3Signer TLS client authentication (with SENDER_WEB3SIGNER_TLS_KEY_FILE)',
  },
  SENDER_WEB3SIGNER_TLS_KEY_FILE: {
    parse: str,
    optional: true,
    description: 'PEM private key of SENDER_WEB3SIGNER_TLS_CERT_FILE',
  },
  SENDER_WEB3SIGNER_BEARER_TOKEN_FILE: {
    parse: str,
    optional: true,
    description:
      'file holding a bearer token sent to Web3Signer (for an authenticating proxy in front of it)',
  },
  SENDER_API_TOKENS_FILE: {
    parse: str,
    optional: true,
    description: 'YAML/JSON file binding API tokens to the sender accounts they may use; no file, no access',
  },
  SENDER_CONTACTS_FILE: {
    parse: str,
    optional: true,
    description: 'YAML address book of known recipients (alias, address, serviceUrl, max price)',
  },
  SENDER_ALLOWLIST: {
    parse: bool,
    default: false,
    description: 'refuse params from recipients that are not in the contacts',
  },
  SENDER_MAX_TICKET_EV: {
    parse: uint,
    default: 3_000_000_000_000n,
    description: 'largest EV of one ticket, wei (go-livepeer -maxTicketEV)',
  },
  SENDER_MAX_TOTAL_EV: {
    parse: uint,
    default: 20_000_000_000_000n,
    description: 'largest EV of one batch, wei (go-livepeer -maxTotalEV)',
  },
  SENDER_DEPOSIT_MULTIPLIER: {
    parse: positiveUint,
    default: 1n,
    description: 'faceValue may be at most deposit / this (go-livepeer -depositMultiplier)',
  },
  SENDER_NONCE_CAP: {
    parse: int(1, MAX_SENDER_NONCE),
    default: MAX_SENDER_NONCES,
    description: "nonces one session may issue: the recipient's cap per recipientRand (go-livepeer 600)",
  },
  SENDER_NONCE_REFRESH_AT: {
    parse: int(1, MAX_SENDER_NONCE),
    default: 500,
    description: 'from this nonce on, batch responses ask the caller to refresh its params',
  },
  SENDER_MAX_BATCH_SIZE: {
    parse: int(1, 100_000),
    // A larger batch would pass the recipient's nonce cap for one set of params.
    default: MAX_SENDER_NONCES,
    description: 'largest number of tickets in one batch',
  },
  SENDER_MAX_TICKETS_PER_SECOND_PER_SENDER: {
    parse: int(0, 10_000_000),
    default: 0,
    description:
      'tickets one sender account may have signed per second, over all replicas; 0 = no cap ' +
      '(when set, SENDER_MAX_BATCH_SIZE must not exceed it)',
  },
  SENDER_GRPC_MAX_REQUEST_BYTES: {
    parse: int(1_024, 64 * 1024 * 1024),
    default: 64 * 1024,
    description:
      'largest gRPC request message accepted, bytes (requests are a few hundred bytes); a larger ' +
      'one is refused with RESOURCE_EXHAUSTED before it is decoded',
  },
  SENDER_REMOTE_SIGNER: {
    parse: bool,
    default: false,
    description:
      "serve go-livepeer's remote signer API (POST /sign-orchestrator-info, /generate-live-payment, " +
      '/sign-byoc-job, GET /discover-orchestrators) on the HTTP port; needs auth (API tokens ' +
      'or a webhook) unless HTTP_HOST is loopback',
  },
  SENDER_REMOTE_SIGNER_DISCOVERY: {
    parse: bool,
    default: false,
    description:
      'serve GET /discover-orchestrators from an orchestrator pool (go-livepeer -remoteDiscovery): ' +
      'SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL, else SENDER_REMOTE_SIGNER_ORCHESTRATORS, else the ' +
      'on-chain pool (BondingManager, ServiceRegistry); off: it answers 503',
  },
  SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL: {
    parse: url(['http', 'https']),
    optional: true,
    // It may carry credentials (user:password@, a token in the query): never echoed nor logged.
    secret: true,
    description:
      'URL discovery GETs its orchestrators from, at most once a minute (go-livepeer -orchWebhookUrl: ' +
      'a JSON array of {"address": "https://host:port", "score"}); refused beside ' +
      'SENDER_REMOTE_SIGNER_ORCHESTRATORS',
  },
  SENDER_REMOTE_SIGNER_ORCHESTRATORS: {
    parse: orchestratorList,
    default: [] as string[],
    description:
      'comma-separated orchestrators discovery asks, host:port or https://host:port (go-livepeer ' +
      "-orchAddr); empty: the webhook's pool, else the on-chain pool",
  },
  SENDER_REMOTE_SIGNER_DISCOVERY_INTERVAL_SECONDS: {
    parse: int(10, 86_400),
    default: 1_500,
    description:
      'how often discovery asks every orchestrator for its info, s (go-livepeer -liveAICapReportInterval: 25 min)',
  },
  SENDER_REMOTE_SIGNER_STATE_SECRET: {
    parse: minLength(32),
    optional: true,
    secret: true,
    description:
      'key (32+ characters, the same on every replica) of the HMAC that seals the remote signer state; ' +
      'unset: the state is signed by the sender account, as go-livepeer does',
  },
  SENDER_REMOTE_SIGNER_WEBHOOK_URL: {
    parse: url(['http', 'https']),
    optional: true,
    secret: true,
    description:
      'auth webhook called before any ticket is signed (go-livepeer -remoteSignerWebhookUrl: same body, ' +
      'honours status, reason, expiry, auth_id and maxPrice of the reply; user:password@ sent as Basic auth, as Go does)',
  },
  SENDER_REMOTE_SIGNER_WEBHOOK_HEADERS: {
    parse: headerList,
    default: [] as [string, string][],
    secret: true,
    description:
      'headers sent to the webhook, "Key:Value,Key2:Value2" (go-livepeer -remoteSignerWebhookHeaders)',
  },
  SENDER_REMOTE_SIGNER_WEBHOOK_TIMEOUT_MS: {
    parse: int(100, 60_000),
    default: 5_000,
    description: 'webhook timeout; a webhook that does not answer in time refuses the request',
  },
  SENDER_REMOTE_SIGNER_ALLOW_NO_AUTH: {
    parse: bool,
    default: false,
    description:
      'let the remote signer run on a non-loopback HTTP_HOST without API tokens or webhook ' +
      '(go-livepeer -remoteSignerAllowNoAuth): anyone who reaches it spends the deposit',
  },
  SENDER_REMOTE_SIGNER_MAX_TICKETS: {
    parse: int(1, MAX_SENDER_NONCES),
    default: MAX_REMOTE_TICKETS,
    description: 'most tickets one /generate-live-payment call may sign (go-livepeer: 100)',
  },
  SENDER_REMOTE_SIGNER_MAX_PRICE: {
    parse: positiveDecimal,
    optional: true,
    description:
      'highest orchestrator price accepted, wei per billable unit (decimal); above it HTTP 481 ' +
      '(go-livepeer -maxPricePerUnit / -pixelsPerUnit)',
  },
  SENDER_REMOTE_SIGNER_MAX_PRICE_PER_CAPABILITY: {
    parse: parseCapabilityMaxPrices,
    optional: true,
    description:
      'highest orchestrator price per AI pipeline and model, wei (go-livepeer -maxPricePerCapability: ' +
      'a JSON file or the JSON, {"capabilities_prices": [{"pipeline", "model_id", "price_per_unit", ' +
      '"pixels_per_unit"}]}); a request naming priced models is held to their sum instead of ' +
      'SENDER_REMOTE_SIGNER_MAX_PRICE',
  },
} satisfies EnvSchema;

export class SenderConfig extends configClass(SENDER_ENV) {}
