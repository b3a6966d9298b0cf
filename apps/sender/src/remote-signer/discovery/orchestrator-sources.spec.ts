import { describe, expect, it } from 'vitest';
import { orchestratorServiceUrl } from './orchestrator-sources.js';

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
