import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '#app/testing';
import {
  DEMO_FACE_VALUE,
  DEMO_MAX_TOTAL_EV,
  DEMO_PARAMS_EXPIRY_BLOCKS,
  DEMO_TICKET_EV,
  type DemoFiles,
} from './demo-setup.js';

export interface StackPorts {
  senderHttp: number;
  senderGrpc: number;
  recipientHttp: number;
  recipientGrpc: number;
  monitorHttp: number;
  monitorGrpc: number;
  redeemerHttp: number;
  opsHttp: number;
}

/** Each service's usual port (its config default); `free` picks unused ones instead (tests). */
export async function choosePorts(free: boolean): Promise<StackPorts> {
  const defaults: StackPorts = {
    senderHttp: 8920,
    senderGrpc: 8930,
    recipientHttp: 8921,
    recipientGrpc: 8931,
    monitorHttp: 8925,
    monitorGrpc: 8935,
    redeemerHttp: 8933,
    opsHttp: 8940,
  };
  if (!free) return defaults;
  const picked = { ...defaults };
  for (const key of Object.keys(picked) as (keyof StackPorts)[]) picked[key] = await freePort();
  return picked;
}

export interface ServiceSpec {
  name: string;
  entry: string;
  httpPort: number;
  /** host:port of its gRPC API, when it has one. */
  grpc?: string;
  /** Wiring: ports, keys, files, addresses. */
  env: Record<string, string>;
  /** The demo's tuning: defaults that the user's environment overrides (e.g. RECIPIENT_PARAMS_EXPIRY_BLOCKS). */
  tuning: Record<string, string>;
}

/**
 * The services of the local stack and their settings for the demo: the demo sender's keystore
 * and API token, a recipient with demo ticket economics and short-lived params, and a redeemer
 * signing with the recipient's dev key that polls often. The ops API only when it is built.
 * The tuning is only a default: a variable set in the user's environment wins.
 */
export function serviceSpecs(root: string, ports: StackPorts, demo: DemoFiles): ServiceSpec[] {
  const entry = (name: string) => join(root, 'dist', 'apps', name, 'src', 'main.js');
  const recipientGrpc = `127.0.0.1:${ports.recipientGrpc}`;
  const monitorGrpc = `127.0.0.1:${ports.monitorGrpc}`;
  const specs: ServiceSpec[] = [
    {
      name: 'sender',
      entry: entry('sender'),
      httpPort: ports.senderHttp,
      grpc: `127.0.0.1:${ports.senderGrpc}`,
      env: {
        SENDER_HTTP_PORT: String(ports.senderHttp),
        SENDER_GRPC_URL: `127.0.0.1:${ports.senderGrpc}`,
        SENDER_KEYSTORE_DIR: demo.keystoreDir,
        SENDER_KEYSTORE_PASSWORD_FILE: demo.passwordFile,
        SENDER_API_TOKENS_FILE: demo.tokensFile,
      },
      tuning: {
        SENDER_MAX_TICKET_EV: String(DEMO_TICKET_EV * 2n),
        SENDER_MAX_TOTAL_EV: String(DEMO_MAX_TOTAL_EV),
        ETH_L1_BLOCK_SECONDS: '1',
      },
    },
    {
      name: 'recipient',
      entry: entry('recipient'),
      httpPort: ports.recipientHttp,
      grpc: recipientGrpc,
      env: {
        RECIPIENT_HTTP_PORT: String(ports.recipientHttp),
        RECIPIENT_GRPC_URL: recipientGrpc,
        RECIPIENT_ADDRESS: demo.recipientAddress,
        RECIPIENT_SECRET_KEY: demo.recipientSecretKey,
      },
      tuning: {
        RECIPIENT_TICKET_EV: String(DEMO_TICKET_EV),
        RECIPIENT_MAX_FACE_VALUE: String(DEMO_FACE_VALUE),
        RECIPIENT_PARAMS_EXPIRY_BLOCKS: String(DEMO_PARAMS_EXPIRY_BLOCKS),
        RECIPIENT_PARAMS_TTL_SECONDS: '600',
        ETH_L1_BLOCK_SECONDS: '1',
        // A block a second: a head that has not moved for 10 s is stale. Winners wait its blocks
        // (11) past their params' expiry before recipientRand is revealed.
        RECIPIENT_MAX_HEAD_STALL_SECONDS: '10',
        RECIPIENT_RECONCILE_INTERVAL_SECONDS: '10',
      },
    },
    {
      name: 'sender-monitor',
      entry: entry('sender-monitor'),
      httpPort: ports.monitorHttp,
      grpc: monitorGrpc,
      env: {
        SENDER_MONITOR_HTTP_PORT: String(ports.monitorHttp),
        SENDER_MONITOR_GRPC_URL: monitorGrpc,
        SENDER_MONITOR_RECIPIENTS: demo.recipientAddress,
      },
      tuning: { SENDER_MONITOR_POLL_INTERVAL_MS: '1000' },
    },
    {
      name: 'redeemer',
      entry: entry('redeemer'),
      httpPort: ports.redeemerHttp,
      env: {
        REDEEMER_HTTP_PORT: String(ports.redeemerHttp),
        // Anvil's public dev key of the demo recipient; a real deployment uses a keystore.
        REDEEMER_PRIVATE_KEY: demo.recipientKey,
        REDEEMER_RECIPIENTS: demo.recipientAddress,
        REDEEMER_OPS_TOKEN: demo.redeemerOpsToken,
      },
      tuning: {
        REDEEMER_CONFIRMATIONS: '1',
        // Winners arrive at ~150/s at full demo speed (1 s blocks): batches up to the config's
        // cap, and at least twice as many workers (a job holds its slot while its ticket waits in
        // a batch being gathered or evaluated).
        REDEEMER_BATCH_MAX_SIZE: '200',
        REDEEMER_CONCURRENCY: '512',
        REDEEMER_PARAMS_EXPIRY_MARGIN_BLOCKS: '1',
        REDEEMER_POLL_MS: '1000',
        REDEEMER_TX_POLL_MS: '500',
        REDEEMER_RECONCILE_INTERVAL_MS: '5000',
      },
    },
  ];
  if (existsSync(entry('ops'))) {
    specs.push({
      name: 'ops',
      entry: entry('ops'),
      httpPort: ports.opsHttp,
      env: {
        OPS_HTTP_PORT: String(ports.opsHttp),
        OPS_API_TOKEN: demo.opsApiToken,
        OPS_RECIPIENT_ADDRESS: demo.recipientAddress,
        SENDER_MONITOR_GRPC_URL: monitorGrpc,
        REDEEMER_URL: `http://127.0.0.1:${ports.redeemerHttp}`,
        REDEEMER_OPS_TOKEN: demo.redeemerOpsToken,
        OPS_RECIPIENT_METRICS_URLS: `http://127.0.0.1:${ports.recipientHttp}/metrics`,
      },
      tuning: {},
    });
  }
  return specs;
}

/** A service's environment: the demo's tuning, then the user's environment, then the wiring. */
export function serviceEnv(spec: ServiceSpec, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...spec.tuning, ...base, ...spec.env };
}
