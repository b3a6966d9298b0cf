import { randomBytes } from 'node:crypto';
import { ConsoleLogger, type DynamicModule, type INestApplication } from '@nestjs/common';
import { Wallet } from 'ethers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bootstrapService } from '#app/common';
import {
  ANVIL_PRIVATE_KEYS,
  freePort,
  grpcHealthCheck,
  startAnvil,
  type AnvilInstance,
  deployProtocol,
} from '#app/testing';
import { RecipientConfig } from '../../apps/recipient/src/recipient.config.js';
import { RecipientModule } from '../../apps/recipient/src/recipient.module.js';
import { RedeemerConfig } from '../../apps/redeemer/src/redeemer.config.js';
import { RedeemerModule } from '../../apps/redeemer/src/redeemer.module.js';
import { SenderMonitorConfig } from '../../apps/sender-monitor/src/sender-monitor.config.js';
import { SenderMonitorModule } from '../../apps/sender-monitor/src/sender-monitor.module.js';
import { SenderConfig } from '../../apps/sender/src/sender.config.js';
import { SenderModule } from '../../apps/sender/src/sender.module.js';
import { TEST_POSTGRES_URL } from '../support/test-servers.js';

type Env = Record<string, string>;

const RECIPIENT_ADDRESS = Wallet.createRandom().address;
const RECIPIENT_SECRET_KEY = randomBytes(32).toString('hex');

interface AppUnderTest {
  name: string;
  module: (env: Env) => DynamicModule;
  grpc: boolean;
  probes: string[];
}

const APPS: AppUnderTest[] = [
  {
    name: 'sender',
    module: (env) => SenderModule.forRoot(SenderConfig.fromEnv(env)),
    grpc: true,
    probes: ['redis', 'chain'],
  },
  {
    name: 'recipient',
    // The Recipient also needs the address it issues params for and the key of its stored secret.
    module: (env) =>
      RecipientModule.forRoot(
        RecipientConfig.fromEnv({
          RECIPIENT_ADDRESS: RECIPIENT_ADDRESS,
          RECIPIENT_SECRET_KEY: RECIPIENT_SECRET_KEY,
          ...env,
        }),
      ),
    grpc: true,
    // And the head it judges params and payments on (not too old, not stuck), and whether a
    // Redeemer serves it.
    probes: ['database', 'redis', 'chain', 'head', 'redeemer'],
  },
  {
    name: 'sender-monitor',
    module: (env) => SenderMonitorModule.forRoot(SenderMonitorConfig.fromEnv(env)),
    grpc: true,
    probes: ['database', 'redis', 'chain'],
  },
  {
    name: 'redeemer',
    module: (env) => RedeemerModule.forRoot(RedeemerConfig.fromEnv(env)),
    grpc: false,
    probes: ['database', 'redis', 'chain'],
  },
];

const quietLogger = () => new ConsoleLogger('test', { logLevels: ['fatal'] });

describe('services boot', () => {
  let anvil: AnvilInstance;
  let baseEnv: Env;

  beforeAll(async () => {
    anvil = await startAnvil();
    const deployed = await deployProtocol(new Wallet(ANVIL_PRIVATE_KEYS[0], anvil.provider));
    baseEnv = {
      DATABASE_URL: inject('databaseUrl'),
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: inject('redisPrefix'),
      ETH_RPC_URL: anvil.url,
      CONTROLLER_ADDRESS: deployed.controller,
    };
  });
  afterAll(async () => {
    await anvil?.stop();
  });

  async function boot(app: AppUnderTest, env: Env): Promise<{ nest: INestApplication; grpcUrl?: string }> {
    const grpcUrl = app.grpc ? `127.0.0.1:${await freePort()}` : undefined;
    const nest = await bootstrapService({
      name: app.name,
      module: app.module(env),
      logger: quietLogger(),
      http: { host: '127.0.0.1', port: 0 },
      grpc: grpcUrl ? { url: grpcUrl } : undefined,
      exitOnSignals: false,
    });
    return { nest, grpcUrl };
  }

  for (const app of APPS) {
    it(`${app.name}: /health is up on every dependency, /metrics and gRPC health answer`, async () => {
      const { nest, grpcUrl } = await boot(app, baseEnv);
      try {
        const url = await nest.getUrl();
        const res = await fetch(`${url}/health`);
        expect(res.status).toBe(200);
        const body = (await res.json()) as { status: string; details: Record<string, { status: string }> };
        expect(body.status).toBe('ok');
        expect(Object.keys(body.details).sort()).toEqual([...app.probes].sort());
        const metrics = await (await fetch(`${url}/metrics`)).text();
        expect(metrics).toContain(`service="${app.name}"`);
        if (grpcUrl) expect(await grpcHealthCheck(grpcUrl)).toBe('SERVING');
      } finally {
        await nest.close();
      }
    });
  }

  it('health turns 503 and gRPC NOT_SERVING when a dependency is down', async () => {
    const deadPort = await freePort();
    const { nest, grpcUrl } = await boot(APPS[0], {
      ...baseEnv,
      ETH_RPC_URL: `http://127.0.0.1:${deadPort}`,
    });
    try {
      const res = await fetch(`${await nest.getUrl()}/health`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect(Object.keys(body.error)).toEqual(['chain']);
      expect(await grpcHealthCheck(grpcUrl!)).toBe('NOT_SERVING');
    } finally {
      await nest.close();
    }
  });

  it('refuses to start when CONTROLLER_ADDRESS has no contract', async () => {
    const env = { ...baseEnv, CONTROLLER_ADDRESS: Wallet.createRandom().address };
    await expect(boot(APPS[1], env)).rejects.toThrow(/has no contract code/);
  });

  it('refuses to start on a database with pending migrations', async () => {
    const name = `ticketpay_test_unmigrated_${Date.now()}`;
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    try {
      const url = new URL(TEST_POSTGRES_URL);
      url.pathname = `/${name}`;
      await expect(boot(APPS[1], { ...baseEnv, DATABASE_URL: url.toString() })).rejects.toThrow(
        /pending migrations/,
      );
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });
});
