import {
  address,
  bearerToken,
  ConfigError,
  configClass,
  hostPort,
  httpPortField,
  INFRA_ENV,
  int,
  url,
  ZERO_ADDRESS,
  type EnvSchema,
  type EnvValues,
} from '#app/common';
import { SENDER_MONITOR_DEFAULT_GRPC_URL } from '#app/clients';

function httpUrlList(raw: string): string[] {
  const list = raw
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (list.length === 0) throw new Error('expected at least one http(s) URL');
  return list.map(url(['http', 'https'], { credentials: 'refused' }));
}

function txUrlTemplate(raw: string): string {
  if (!raw.includes('{hash}')) throw new Error('expected a URL containing {hash}');
  url(['http', 'https'], { credentials: 'refused' })(raw.replace('{hash}', '0x0'));
  return raw;
}

export const OPS_ENV = {
  ...INFRA_ENV,
  OPS_HTTP_PORT: {
    ...httpPortField(8940),
    description: 'port of the ops API, the dashboard, /docs, /queues, /health and /metrics',
  },
  OPS_API_TOKEN: {
    parse: bearerToken,
    secret: true,
    description: 'bearer token every ops API call needs (the dashboard asks for it)',
  },
  OPS_RECIPIENT_ADDRESS: {
    parse: address,
    optional: true,
    description:
      'the recipient whose key may sign mutating calls instead of the bearer token (snet-daemon style); unset = signed calls refused',
  },
  OPS_SIGNATURE_MAX_AGE_BLOCKS: {
    parse: int(0, 1_000),
    default: 5,
    description:
      'a signed call names a block; it is refused when that block is more than this many behind the head',
  },
  SENDER_MONITOR_GRPC_URL: {
    parse: hostPort,
    default: SENDER_MONITOR_DEFAULT_GRPC_URL,
    description: 'host:port of the SenderMonitor gRPC server (deposit, reserve, max float, validity)',
  },
  REDEEMER_URL: {
    parse: url(['http', 'https'], { credentials: 'refused' }),
    optional: true,
    description:
      "the Redeemer's HTTP base URL (its /ops endpoints), e.g. http://127.0.0.1:8933; unset = no redeem-now",
  },
  REDEEMER_OPS_TOKEN: {
    parse: bearerToken,
    optional: true,
    secret: true,
    description: "the Redeemer's REDEEMER_OPS_TOKEN",
  },
  OPS_RECIPIENT_METRICS_URLS: {
    parse: httpUrlList,
    optional: true,
    description:
      'comma-separated /metrics URLs of the Recipient replicas: EV received and tickets received are read from them',
  },
  OPS_TX_URL_TEMPLATE: {
    parse: txUrlTemplate,
    optional: true,
    description:
      'block explorer link of a transaction, with {hash} in it, e.g. https://arbiscan.io/tx/{hash}',
  },
  OPS_SAMPLE_INTERVAL_MS: {
    parse: int(500, 600_000),
    default: 5_000,
    description: "how often the Recipients' counters are sampled for the received-tickets chart",
  },
} satisfies EnvSchema;

export type OpsEnv = EnvValues<typeof OPS_ENV>;

export class OpsConfig extends configClass(OPS_ENV) {
  constructor(values: OpsEnv) {
    super(values);
    const problems: string[] = [];
    if ((values.REDEEMER_URL === undefined) !== (values.REDEEMER_OPS_TOKEN === undefined)) {
      problems.push('set REDEEMER_URL and REDEEMER_OPS_TOKEN together (or neither)');
    }
    if (values.OPS_RECIPIENT_ADDRESS === ZERO_ADDRESS) {
      problems.push('OPS_RECIPIENT_ADDRESS must not be the zero address');
    }
    if (problems.length > 0) throw new ConfigError(problems);
  }
}
