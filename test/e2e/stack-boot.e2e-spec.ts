import { randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ANVIL_PRIVATE_KEYS,
  freePort,
  grpcHealthCheck,
  startAnvil,
  startServiceProcess,
  waitForHttpOk,
  type AnvilInstance,
  type ServiceProcess,
  deployProtocol,
} from '#app/testing';

/** The four built services as real processes against a dev chain: boot, serve health, stop cleanly. */
describe('the four services as processes', () => {
  let anvil: AnvilInstance;
  const services: { svc: ServiceProcess; http: number; grpc?: number }[] = [];

  beforeAll(async () => {
    anvil = await startAnvil();
    const { controller } = await deployProtocol(new Wallet(ANVIL_PRIVATE_KEYS[0], anvil.provider));
    const base = {
      DATABASE_URL: inject('databaseUrl'),
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: inject('redisPrefix'),
      ETH_RPC_URL: anvil.url,
      CONTROLLER_ADDRESS: controller,
    };
    const specs: { name: string; httpVar: string; grpcVar?: string; extra?: Record<string, string> }[] = [
      { name: 'sender', httpVar: 'SENDER_HTTP_PORT', grpcVar: 'SENDER_GRPC_URL' },
      {
        name: 'recipient',
        httpVar: 'RECIPIENT_HTTP_PORT',
        grpcVar: 'RECIPIENT_GRPC_URL',
        extra: {
          RECIPIENT_ADDRESS: Wallet.createRandom().address,
          RECIPIENT_SECRET_KEY: randomBytes(32).toString('hex'),
        },
      },
      { name: 'sender-monitor', httpVar: 'SENDER_MONITOR_HTTP_PORT', grpcVar: 'SENDER_MONITOR_GRPC_URL' },
      { name: 'redeemer', httpVar: 'REDEEMER_HTTP_PORT' },
    ];
    for (const spec of specs) {
      const http = await freePort();
      const grpc = spec.grpcVar ? await freePort() : undefined;
      const env: Record<string, string> = { ...base, ...spec.extra, [spec.httpVar]: String(http) };
      if (spec.grpcVar) env[spec.grpcVar] = `127.0.0.1:${grpc}`;
      services.push({ svc: startServiceProcess(spec.name, env), http, grpc });
    }
    await Promise.all(services.map((s) => waitForHttpOk(`http://127.0.0.1:${s.http}/health`, s.svc)));
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.svc.stop()));
    await anvil?.stop();
  });

  it('every service reports healthy over HTTP and gRPC', async () => {
    for (const s of services) {
      const res = await fetch(`http://127.0.0.1:${s.http}/health`);
      expect(res.status, s.svc.name).toBe(200);
      if (s.grpc) expect(await grpcHealthCheck(`127.0.0.1:${s.grpc}`)).toBe('SERVING');
    }
  });

  it('logs are structured JSON and never contain the connection URLs', () => {
    for (const s of services) {
      const lines = s.svc.output().trim().split('\n');
      for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
      expect(s.svc.output()).not.toContain(inject('databaseUrl'));
      expect(s.svc.output()).not.toContain(anvil.url);
    }
  });

  it('stops cleanly on SIGTERM', async () => {
    const codes = await Promise.all(services.map((s) => s.svc.stop()));
    expect(codes).toEqual([0, 0, 0, 0]);
  });
});
