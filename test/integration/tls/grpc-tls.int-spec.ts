import {
  type ChannelCredentials,
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  bootstrapService,
  ConfigError,
  HEALTH_PROTO_PATH,
  HealthModule,
  readGrpcServerTls,
  type GrpcServerTls,
} from '#app/common';
import {
  ANVIL_PRIVATE_KEYS,
  freePort,
  startAnvil,
  startServiceProcess,
  waitForHttpOk,
  type AnvilInstance,
  type ServiceProcess,
  deployProtocol,
} from '#app/testing';
import { createTestPki, type TestPki } from './certs.js';

type HealthClient = Client & {
  Check(
    req: { service: string },
    meta: Metadata,
    opts: { deadline: number },
    cb: (err: (Error & { code?: number }) | null, res?: { status: string }) => void,
  ): void;
};

const healthPkg = loadPackageDefinition(
  loadSync(HEALTH_PROTO_PATH, { enums: String, defaults: true }),
) as unknown as {
  grpc: { health: { v1: { Health: ServiceClientConstructor } } };
};

/** grpc.health.v1 Check with the given channel credentials; resolves the status or rejects. */
async function check(target: string, creds: ChannelCredentials): Promise<string> {
  const client = new healthPkg.grpc.health.v1.Health(target, creds) as unknown as HealthClient;
  try {
    return await new Promise<string>((resolve, reject) => {
      client.Check({ service: '' }, new Metadata(), { deadline: Date.now() + 3_000 }, (err, res) =>
        err ? reject(err) : resolve(res?.status ?? 'UNKNOWN'),
      );
    });
  } finally {
    client.close();
  }
}

const quietLogger = () => new ConsoleLogger('tls-test', { logLevels: ['fatal'] });

async function bootHealthOnly(
  tls: GrpcServerTls | undefined,
): Promise<{ app: INestApplication; target: string }> {
  const grpcPort = await freePort();
  const app = await bootstrapService({
    name: 'tls-test',
    module: HealthModule.forRoot([]),
    logger: quietLogger(),
    http: { host: '127.0.0.1', port: await freePort() },
    grpc: { url: `127.0.0.1:${grpcPort}`, tls },
    exitOnSignals: false,
  });
  return { app, target: `127.0.0.1:${grpcPort}` };
}

describe('gRPC over TLS', () => {
  let pki: TestPki;
  const apps: INestApplication[] = [];

  beforeAll(() => {
    pki = createTestPki();
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    pki?.remove();
  });

  const trustCa = () => credentials.createSsl(pki.read(pki.caCert));

  it('plain gRPC stays the default: no TLS settings, no TLS', () => {
    expect(readGrpcServerTls({})).toBeUndefined();
  });

  it('rejects half or broken TLS settings at boot with a ConfigError naming the setting', () => {
    expect(() => readGrpcServerTls({ GRPC_TLS_CERT_FILE: pki.serverCert })).toThrow(ConfigError);
    expect(() => readGrpcServerTls({ GRPC_TLS_KEY_FILE: pki.serverKey })).toThrow(/set together/);
    expect(() => readGrpcServerTls({ GRPC_TLS_CLIENT_CA_FILE: pki.caCert })).toThrow(
      /needs GRPC_TLS_CERT_FILE/,
    );
    expect(() =>
      readGrpcServerTls({ GRPC_TLS_CERT_FILE: `${pki.dir}/missing.crt`, GRPC_TLS_KEY_FILE: pki.serverKey }),
    ).toThrow(/GRPC_TLS_CERT_FILE=.*ENOENT/);
    expect(() =>
      readGrpcServerTls({ GRPC_TLS_CERT_FILE: pki.serverCert, GRPC_TLS_KEY_FILE: `${pki.dir}/server.ext` }),
    ).toThrow(/GRPC_TLS_KEY_FILE=.*not a PEM file/);
  });

  it('server TLS: a client trusting the CA is served, a plaintext client is not', async () => {
    const tls = readGrpcServerTls({ GRPC_TLS_CERT_FILE: pki.serverCert, GRPC_TLS_KEY_FILE: pki.serverKey });
    const { app, target } = await bootHealthOnly(tls);
    apps.push(app);
    expect(await check(target, trustCa())).toBe('SERVING');
    await expect(check(target, credentials.createInsecure())).rejects.toThrow();
    // A client that does not trust the issuing CA refuses the server.
    await expect(check(target, credentials.createSsl())).rejects.toThrow();
  });

  it('mTLS: a client certificate signed by the client CA is required', async () => {
    const tls = readGrpcServerTls({
      GRPC_TLS_CERT_FILE: pki.serverCert,
      GRPC_TLS_KEY_FILE: pki.serverKey,
      GRPC_TLS_CLIENT_CA_FILE: pki.caCert,
    });
    const { app, target } = await bootHealthOnly(tls);
    apps.push(app);
    await expect(check(target, trustCa())).rejects.toThrow();
    await expect(check(target, credentials.createInsecure())).rejects.toThrow();
    const rogue = credentials.createSsl(
      pki.read(pki.caCert),
      pki.read(pki.rogueClientKey),
      pki.read(pki.rogueClientCert),
    );
    await expect(check(target, rogue)).rejects.toThrow();
    const good = credentials.createSsl(
      pki.read(pki.caCert),
      pki.read(pki.clientKey),
      pki.read(pki.clientCert),
    );
    expect(await check(target, good)).toBe('SERVING');
  });

  describe('a built service process configured through the environment', () => {
    let anvil: AnvilInstance;
    let svc: ServiceProcess | undefined;
    let base: Record<string, string>;

    beforeAll(async () => {
      anvil = await startAnvil();
      const { controller } = await deployProtocol(new Wallet(ANVIL_PRIVATE_KEYS[0], anvil.provider));
      base = {
        DATABASE_URL: inject('databaseUrl'),
        REDIS_URL: inject('redisUrl'),
        REDIS_PREFIX: `${inject('redisPrefix')}tls-spec:`,
        ETH_RPC_URL: anvil.url,
        CONTROLLER_ADDRESS: controller,
      };
    });

    afterAll(async () => {
      await svc?.stop();
      await anvil?.stop();
    });

    it('refuses to boot (exit 78) with only half of the TLS settings', async () => {
      const half = startServiceProcess('sender-monitor', {
        ...base,
        SENDER_MONITOR_HTTP_PORT: String(await freePort()),
        SENDER_MONITOR_GRPC_URL: `127.0.0.1:${await freePort()}`,
        GRPC_TLS_CERT_FILE: pki.serverCert,
      });
      const code = await new Promise<number | null>((resolve) => {
        if (half.proc.exitCode !== null) resolve(half.proc.exitCode);
        else half.proc.once('exit', resolve);
      });
      expect(code).toBe(78);
      expect(half.output()).toContain('GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE must be set together');
    });

    it('serves mTLS on its gRPC port from GRPC_TLS_* files', async () => {
      const http = await freePort();
      const grpcPort = await freePort();
      svc = startServiceProcess('sender-monitor', {
        ...base,
        SENDER_MONITOR_HTTP_PORT: String(http),
        SENDER_MONITOR_GRPC_URL: `127.0.0.1:${grpcPort}`,
        GRPC_TLS_CERT_FILE: pki.serverCert,
        GRPC_TLS_KEY_FILE: pki.serverKey,
        GRPC_TLS_CLIENT_CA_FILE: pki.caCert,
      });
      await waitForHttpOk(`http://127.0.0.1:${http}/health`, svc);
      const target = `127.0.0.1:${grpcPort}`;
      await expect(check(target, credentials.createInsecure())).rejects.toThrow();
      await expect(check(target, trustCa())).rejects.toThrow();
      const good = credentials.createSsl(
        pki.read(pki.caCert),
        pki.read(pki.clientKey),
        pki.read(pki.clientCert),
      );
      expect(await check(target, good)).toBe('SERVING');
      expect(svc.output()).toContain('"grpcTls":"mtls"');
      expect(svc.output()).not.toContain(pki.read(pki.serverKey).toString().split('\n')[1]);
    });
  });
});
