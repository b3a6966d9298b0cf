import { describe, expect, it } from 'vitest';
import { parseApiTokens } from '../auth/api-tokens.js';
import { isLoopbackHost } from '../boot/sender-boot.js';
import { parseByocJobRequest } from './byoc-job-request.js';
import { parseLivePaymentRequest } from './live-payment-request.js';
import { canonicalHeaderName, webhookHeaders } from './signer-webhook.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'NO_ERROR';
};

describe('remote signer request parsing', () => {
  it("matches keys case-insensitively, as Go's encoding/json does, the last of them winning", () => {
    const r = parseLivePaymentRequest({
      ORCHESTRATOR: b64('x'),
      manifestid: 'm',
      ManifestID: 'exact',
      Type: 'live',
      state: { state: b64('s'), SIG: b64('g') },
      App: 'a',
    });
    expect(Buffer.from(r.orchestrator).toString()).toBe('x');
    expect(r.manifestId).toBe('exact');
    expect(r.type).toBe('live');
    expect(r.app).toBe('a');
    expect(Buffer.from(r.state!.state).toString()).toBe('s');
    expect(Buffer.from(r.state!.sig).toString()).toBe('g');
    // Go fills the field from each key in turn: an exact name does not outrank a later folded one.
    const later = parseLivePaymentRequest({
      orchestrator: b64('x'),
      ManifestID: 'exact',
      manifestid: 'later',
    });
    expect(later.manifestId).toBe('later');
  });

  it('reads base64 wrapped in lines, as Go skips line breaks, and still refuses other whitespace', () => {
    const info = Buffer.alloc(120, 7).toString('base64');
    const wrapped = `${info.slice(0, 76)}\r\n${info.slice(76)}\n`;
    const r = parseLivePaymentRequest({ orchestrator: wrapped, state: { state: wrapped, sig: b64('g') } });
    expect(Buffer.from(r.orchestrator)).toEqual(Buffer.alloc(120, 7));
    expect(Buffer.from(r.state!.state)).toEqual(Buffer.alloc(120, 7));
    expect(
      code(() => parseLivePaymentRequest({ orchestrator: `${info.slice(0, 76)} ${info.slice(76)}` })),
    ).toBe('INVALID_REQUEST');
  });

  // Go fills maxPrice (runner.LiveRunnerPriceInfo) the same way: `Price`, `CURRENCY`, `Unit`.
  it('reads maxPrice keys case-insensitively too', () => {
    const r = parseLivePaymentRequest({
      orchestrator: b64('x'),
      MaxPrice: { Price: 1e-7, CURRENCY: 'wei', Unit: 'seconds' },
    });
    expect(r.maxPrice).toEqual({ price: 1e-7, currency: 'wei', unit: 'seconds' });
  });

  it('treats an empty state as none and refuses malformed fields with INVALID_REQUEST', () => {
    expect(
      parseLivePaymentRequest({ orchestrator: b64('x'), state: { State: '', Sig: null } }).state,
    ).toBeUndefined();
    const bad: unknown[] = [
      null,
      [],
      'text',
      {},
      { orchestrator: 'not base64!' },
      { orchestrator: 'eA=' },
      { orchestrator: b64('x'), inPixels: 1.5 },
      { orchestrator: b64('x'), inPixels: '100' },
      { orchestrator: b64('x'), inPixels: 2 ** 60 },
      { orchestrator: b64('x'), type: 7 },
      { orchestrator: b64('x'), ManifestID: 7 },
      { orchestrator: b64('x'), app: 'a'.repeat(257) },
      { orchestrator: b64('x'), state: 'blob' },
      { orchestrator: b64('x'), capabilities: '***' },
      { orchestrator: b64('x'), type: 'byoc', timeoutSeconds: -1 },
      { orchestrator: b64('x'), type: 'byoc', timeoutSeconds: 2.5 },
    ];
    for (const body of bad) expect(code(() => parseLivePaymentRequest(body))).toBe('INVALID_REQUEST');
    // An unknown type string decodes, as in Go; it is refused after the refresh check.
    expect(parseLivePaymentRequest({ orchestrator: b64('x'), type: 'nano-banana' }).type).toBe('nano-banana');
  });

  it('takes the BYOC type and its timeoutSeconds', () => {
    const r = parseLivePaymentRequest({ orchestrator: b64('x'), type: 'byoc', TimeoutSeconds: 90 });
    expect(r.type).toBe('byoc');
    expect(r.timeoutSeconds).toBe(90n);
    expect(parseLivePaymentRequest({ orchestrator: b64('x') }).timeoutSeconds).toBe(0n);
  });
});

describe('sign-byoc-job request parsing', () => {
  const job = { id: 'j1', capability: 'text-reversal', request: '{}', parameters: '{}', timeout_seconds: 30 };

  it("reads go-livepeer's field names case-insensitively; request and parameters may be empty", () => {
    expect(
      parseByocJobRequest({ ID: 'j', Capability: 'c', TIMEOUT_SECONDS: 5, signature_format: 'v1' }),
    ).toEqual({
      format: 'v1',
      job: { id: 'j', capability: 'c', request: '', parameters: '', timeoutSeconds: 5 },
    });
    expect(parseByocJobRequest(job)).toMatchObject({ format: 'v1', job: { timeoutSeconds: 30 } });
  });

  it("takes the Python SDK's {request, parameters} as the legacy format; any V1 field makes it V1", () => {
    expect(parseByocJobRequest({ request: '{"a":1}', parameters: '{}' })).toEqual({
      format: 'legacy',
      request: '{"a":1}',
      parameters: '{}',
    });
    expect(parseByocJobRequest({ Request: '', parameters: null, id: null })).toEqual({
      format: 'legacy',
      request: '',
      parameters: '',
    });
    expect(parseByocJobRequest({ parameters: 'p' })).toMatchObject({ format: 'legacy', request: '' });
    for (const v1 of [{ id: 'j' }, { capability: 'c' }, { timeout_seconds: 5 }, { signature_format: 'v1' }]) {
      expect(
        code(() => parseByocJobRequest({ request: 'r', parameters: 'p', ...v1 })),
        JSON.stringify(v1),
      ).toBe('INVALID_REQUEST');
    }
  });

  it('refuses what go-livepeer refuses with 400, and formats other than v1, as INVALID_REQUEST', () => {
    const bad: unknown[] = [
      null,
      [],
      'text',
      { ...job, id: '' },
      { ...job, capability: undefined },
      { ...job, timeout_seconds: 0 },
      { ...job, timeout_seconds: -5 },
      { ...job, timeout_seconds: 1.5 },
      { ...job, timeout_seconds: '30' },
      { ...job, request: { text: 'hi' } },
      { ...job, parameters: 7 },
      { ...job, signature_format: 'legacy' },
      {},
      { request: null, parameters: null },
      { request: 1, parameters: '' },
    ];
    for (const body of bad)
      expect(
        code(() => parseByocJobRequest(body)),
        JSON.stringify(body),
      ).toBe('INVALID_REQUEST');
  });
});

describe('webhook headers', () => {
  it("canonicalises names like Go's CanonicalMIMEHeaderKey and drops a ticketpay token", () => {
    expect(canonicalHeaderName('x-request-id')).toBe('X-Request-Id');
    expect(canonicalHeaderName('SIGNER-AUTH-ID')).toBe('Signer-Auth-Id');
    const h = { authorization: 'Bearer t', 'x-request-id': 'r', accept: ['a', 'b'] };
    expect(webhookHeaders(h, true)).toEqual({ 'X-Request-Id': ['r'], Accept: ['a', 'b'] });
    expect(webhookHeaders(h, false).Authorization).toEqual(['Bearer t']);
  });

  it("leaves out Host and Transfer-Encoding, which Go's server takes out of a request's headers", () => {
    const h = { host: 'signer:8935', 'transfer-encoding': 'chunked', 'content-length': '2', 'x-a': 'b' };
    expect(webhookHeaders(h, true)).toEqual({ 'Content-Length': ['2'], 'X-A': ['b'] });
  });
});

describe('fail-closed boot', () => {
  it('counts only loopback hosts as private', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', ''])
      expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('API token spend caps', () => {
  const doc = (spendCap: unknown) => ({
    clients: [{ name: 'c', token: 'x'.repeat(16), senders: ['0x' + '11'.repeat(20)], spendCap }],
  });

  it('parses wei caps, large ones as strings, per window or total', () => {
    const problems: string[] = [];
    const [c] = parseApiTokens(
      doc({ maxEV: '123456789012345678901234567890', maxFaceValue: 5, windowSeconds: 60 }),
      'f',
      problems,
    );
    expect(problems).toEqual([]);
    expect(c.spendCap).toEqual({
      maxEV: 123456789012345678901234567890n,
      maxFaceValue: 5n,
      windowSeconds: 60,
    });
    expect(parseApiTokens(doc(undefined), 'f', [])[0].spendCap).toBeUndefined();
  });

  it('names the client and field of a bad cap, never the token', () => {
    for (const cap of [
      {},
      { maxEV: '-1' },
      { maxEV: 0 },
      { maxEV: 1.5 },
      { maxEV: '1', windowSeconds: 0 },
      'big',
    ]) {
      const problems: string[] = [];
      parseApiTokens(doc(cap), 'f', problems);
      expect(problems.length, JSON.stringify(cap)).toBeGreaterThan(0);
      expect(problems.join('\n')).toContain('clients[0] (c)');
      expect(problems.join('\n')).not.toContain('x'.repeat(16));
    }
  });
});
