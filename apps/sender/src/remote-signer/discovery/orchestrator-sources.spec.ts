import type { ValueProvider } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import {
  ChainOrchestrators,
  ListedOrchestrators,
  orchestratorServiceUrl,
  orchestratorSources,
  OrchestratorSources,
  WebhookOrchestrators,
} from './orchestrator-sources.js';

describe('orchestrator addresses as discovery dials them (-orchAddr, ServiceRegistry URIs)', () => {
  it('takes host:port or an https URL, and keeps only scheme, host and port', () => {
    expect(orchestratorServiceUrl('127.0.0.1:8935')).toBe('https://127.0.0.1:8935');
    expect(orchestratorServiceUrl(' o.example.com:8935 ')).toBe('https://o.example.com:8935');
    expect(orchestratorServiceUrl('HTTPS://O.Example.com:8935/')).toBe('https://o.example.com:8935');
    expect(orchestratorServiceUrl('https://o.example.com')).toBe('https://o.example.com');
    expect(orchestratorServiceUrl('https://o.example.com:443')).toBe('https://o.example.com');
    expect(orchestratorServiceUrl('[::1]:8935')).toBe('https://[::1]:8935');
  });

  it('refuses what gRPC over TLS cannot dial, naming the entry', () => {
    expect(() => orchestratorServiceUrl('http://o.example.com:8935')).toThrow(/https only/);
    expect(() => orchestratorServiceUrl('grpc://o.example.com:8935')).toThrow(/https only/);
    expect(() => orchestratorServiceUrl('https://user:pw@o.example.com')).toThrow(
      /^an orchestrator address must not carry credentials$/,
    );
    expect(() => orchestratorServiceUrl('http://user:pw@o.example.com')).toThrow(
      /^an orchestrator address must not carry credentials$/,
    );
    expect(() => orchestratorServiceUrl('o.example.com:notaport')).toThrow(/not host:port or an https URL/);
    expect(() => orchestratorServiceUrl('')).toThrow();
  });
});

describe('which source discovery reads (go-livepeer: -orchWebhookUrl, else -orchAddr, else the chain)', () => {
  const webhookUrl = 'https://pool.example.com/orchestrators';
  const listed = ['https://10.4.3.2:8935'];

  it('the webhook when one is set', () => {
    const provider = orchestratorSources({ webhookUrl, listed: [] }) as ValueProvider;
    expect(provider.provide).toBe(OrchestratorSources);
    expect(provider.useValue).toBeInstanceOf(WebhookOrchestrators);
  });

  it('else the configured list', async () => {
    const provider = orchestratorSources({ webhookUrl: undefined, listed }) as ValueProvider;
    expect(provider.useValue).toBeInstanceOf(ListedOrchestrators);
    expect(await (provider.useValue as OrchestratorSources).serviceUrls()).toEqual(listed);
  });

  it('else the on-chain pool', () => {
    expect(orchestratorSources({ webhookUrl: undefined, listed: [] })).toEqual({
      provide: OrchestratorSources,
      useClass: ChainOrchestrators,
    });
  });
});
