import { describe, expect, it } from 'vitest';
import { quoteSigningBytes } from '#app/ticket';
import { parseGoJson } from './go-json.js';
import { parseLivePaymentRequest } from './live-payment-request.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
/** A request body as the HTTP layer hands it over: parsed as Go reads it, numbers' text kept. */
const body = (json: string) => parseLivePaymentRequest(parseGoJson(json));
const refused: unknown = expect.objectContaining({ code: 'INVALID_REQUEST' });
const ORCH = `"orchestrator":"${b64('x')}"`;

describe('usage quote and attestation parsing (Go fills *LiveRunnerQuote / *LiveRunnerUsageAttestation)', () => {
  it('reads every quote field, number literals kept as written, keys in any case, the last winning', () => {
    const r = body(
      `{${ORCH},"type":"usage","quote":{"QUOTE_ID":"q_0","quote_id":"q_1","App":"app","manifest_id":"mid",` +
        `"sell_price":0.026250,"sell_unit":"image","upcharge_bps":500,"wei_price_per_unit":10,` +
        `"wei_pixels_per_unit":1,"max_units":"2.5","expires_at":1700000000,"orch_sig":"0xab","extra":[1]}}`,
    );
    expect(r.quote).toEqual({
      quoteId: 'q_1',
      app: 'app',
      manifestId: 'mid',
      sellPrice: '0.026250',
      sellUnit: 'image',
      upchargeBps: 500n,
      weiPricePerUnit: 10n,
      weiPixelsPerUnit: 1n,
      upstream: undefined,
      maxUnits: '2.5',
      expiresAt: 1_700_000_000n,
      orchSig: '0xab',
    });
    // The signed bytes are Go's re-encoding: the string "2.5" becomes the number 2.5.
    expect(new TextDecoder().decode(quoteSigningBytes(r.quote!))).toContain('"max_units":2.5,');
    expect(r.attestation).toBeUndefined();
  });

  it('reads upstream and the attestation, and null as no object', () => {
    const r = body(
      `{${ORCH},"quote":{"upstream":{"Provider":"fal","endpoint_id":"e","unit_price":"0.025","x":1}},` +
        `"attestation":{"quote_id":"q_1","billable_units":1e3,"sell_price":"1","cost_wei":"10","orch_sig":"s"}}`,
    );
    expect(r.quote?.upstream).toEqual({
      provider: 'fal',
      endpointId: 'e',
      unit: '',
      unitPrice: '0.025',
      currency: '',
      fetchedAt: '',
    });
    expect(r.attestation).toEqual({
      quoteId: 'q_1',
      billableUnits: '1e3',
      sellPrice: '1',
      costWei: '10',
      orchSig: 's',
    });
    const none = body(`{${ORCH},"quote":{"quote_id":"q"},"quote":null,"attestation":null}`);
    expect(none.quote).toBeUndefined();
    expect(none.attestation).toBeUndefined();
    // Repeated objects merge, as Go decodes into the same struct.
    const merged = body(`{${ORCH},"quote":{"quote_id":"q","app":"a"},"quote":{"app":"b"}}`);
    expect([merged.quote?.quoteId, merged.quote?.app]).toEqual(['q', 'b']);
  });

  it('turns lone surrogate escapes into U+FFFD, as Go decodes strings', () => {
    expect(body(`{${ORCH},"quote":{"quote_id":"a\\ud800b"}}`).quote?.quoteId).toBe('a\ufffdb');
    // The request's own text fields are kept as read (lockUsageQuote compares the Go form).
    expect(body(`{${ORCH},"ManifestID":"a\\ud800b"}`).manifestId).toBe('a\ud800b');
  });

  it("words a field's refusal as the request's own fields do (one reading of text and integers)", () => {
    const message = (json: string) => {
      try {
        body(json);
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    const unrounded = ', written without fraction or exponent (Go decodes it as an integer)';
    expect(message(`{${ORCH},"inPixels":1.5}`)).toBe(
      `inPixels must be an integer of at most 2^53 − 1${unrounded}`,
    );
    expect(message(`{${ORCH},"quote":{"upcharge_bps":1.5}}`)).toBe(
      `quote.upcharge_bps must be a 64-bit integer${unrounded}`,
    );
    expect(message(`{${ORCH},"app":7}`)).toBe('app must be a string of at most 256 characters');
    expect(message(`{${ORCH},"attestation":{"cost_wei":7}}`)).toBe(
      'attestation.cost_wei must be a string of at most 256 characters',
    );
    expect(body(`{${ORCH},"quote":{"expires_at":-9223372036854775808}}`).quote?.expiresAt).toBe(-(2n ** 63n));
  });

  it('refuses what Go fails to decode (400 INVALID_REQUEST), whatever the payment type', () => {
    const bad = [
      `"quote":"q"`,
      `"quote":[1]`,
      `"quote":{"quote_id":5}`,
      `"quote":{"sell_price":true}`,
      `"quote":{"sell_price":"1/3"}`,
      `"quote":{"max_units":""}`,
      `"quote":{"max_units":" 1"}`,
      `"quote":{"upcharge_bps":1.5}`,
      `"quote":{"expires_at":"1"}`,
      `"quote":{"wei_price_per_unit":9223372036854775808}`,
      `"quote":{"upstream":"x"}`,
      `"quote":{"upstream":{"unit_price":"abc"}}`,
      `"quote":{"quote_id":"${'q'.repeat(257)}"}`,
      `"attestation":{"billable_units":"-"}`,
      `"attestation":{"cost_wei":25}`,
      `"attestation":7`,
    ];
    for (const member of bad) {
      expect(() => body(`{${ORCH},"type":"live",${member}}`), member).toThrow(refused);
    }
    expect(body(`{${ORCH},"quote":{"wei_price_per_unit":9223372036854775807}}`).quote?.weiPricePerUnit).toBe(
      2n ** 63n - 1n,
    );
  });
});
