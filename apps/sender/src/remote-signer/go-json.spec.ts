import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMaxPrice } from '#app/ticket';
import { goFields, goJsonText, goMaxPrice, NumberText, parseGoJson } from './go-json.js';
import { parseByocJobRequest } from './byoc-job-request.js';
import { readRunnerDiscovery } from './discovery/live-runners.js';
import { parseLivePaymentRequest } from './live-payment-request.js';
import { signerJson } from './signer-body.js';

/** The outcome of a parse: its value, or that it threw. */
function outcome(parse: (text: string) => unknown, text: string): { value?: unknown; threw?: true } {
  try {
    return { value: parse(text) };
  } catch {
    return { threw: true };
  }
}

describe('parseGoJson', () => {
  it('builds what JSON.parse builds, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        expect(parseGoJson(text)).toStrictEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts and refuses the texts JSON.parse does', () => {
    const samples = [
      ' {"a" : [1, -0, 2.5e-3, true, false, null, "x\\u00e9\\n\\"\\/"]}\r\n',
      '{"a":1,"a":{"b":2}}',
      '{"__proto__":{"polluted":1}}',
      '"\\ud800"',
      ...['', ' ', '{', '{"a":1,}', '[1,]', '01', '1.', '.5', '-', '+1', '1e', 'NaN', 'tru', '"\t"'],
      ...['"\\x"', '"\\u12"', '{"a" 1}', '{a:1}', "'a'", '[1 2]', '{"a":1}x', '\ufeff{}', '1e400'],
    ];
    for (const text of samples) expect(outcome(parseGoJson, text), text).toEqual(outcome(JSON.parse, text));
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'{}[]",:\\ 01-.eEtrunlfasx\n') }), (text) => {
        expect(outcome(parseGoJson, text)).toEqual(outcome(JSON.parse, text));
      }),
      { numRuns: 2000 },
    );
    const proto = parseGoJson('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto)).toEqual(['__proto__']);
  });

  it('refuses nesting deeper than Go does, without exhausting the stack', () => {
    expect(() => parseGoJson('['.repeat(50_000))).toThrow(SyntaxError);
    expect(parseGoJson('['.repeat(200) + ']'.repeat(200))).toBeInstanceOf(Array);
  });

  it("keeps each number member's source text, the key folded as Go folds it, the last winning", () => {
    const get = goFields(
      parseGoJson('{"price":1,"Price":123456789012345678901,"unit":"1","n":1.50}') as object,
    );
    expect(get('PRICE', 'number')).toBe('123456789012345678901');
    expect(get('n', 'number')).toBe('1.50');
    expect(get('unit', 'number')).toBe('1');
    expect(goFields(parseGoJson('{"price":1,"price":"2"}') as object)('price', 'number')).toBe('2');
    expect(goFields({ price: 1 })('price', 'number')).toBe(1);
  });
});

describe('goJsonText', () => {
  it("writes strings and keys as Go's encoding/json does, numbers as their exact text", () => {
    const value = {
      'a<b>': ['x&y', 'line\u2028sep\u2029', 'lone\ud800', 'é😀\n"\\', '\u0001'],
      n: [12345678901234567890n, new NumberText('1.50'), new NumberText(''), 2.5, true, null],
      gone: undefined,
    };
    expect(goJsonText(value)).toBe(
      '{"a\\u003cb\\u003e":["x\\u0026y","line\\u2028sep\\u2029","lone\ufffd","é😀\\n\\"\\\\","\\u0001"],' +
        '"n":[12345678901234567890,1.50,0,2.5,true,null]}',
    );
    // Read back, it is the same data (a lone surrogate as Go decodes it: U+FFFD).
    expect((JSON.parse(goJsonText(value)) as Record<string, unknown>)['a<b>']).toEqual([
      'x&y',
      'line\u2028sep\u2029',
      'lone\ufffd',
      'é😀\n"\\',
      '\u0001',
    ]);
  });

  it("lists a runner for /discover-orchestrators in Go's exact form: HTML characters escaped", () => {
    const [node] = readRunnerDiscovery(
      '[{"address":"https://o","runners":[{"url":"https://r/s?a=1&b=<2>","app":"fal\u2028<x>",' +
        '"capacity":1,"price_info":{"price":5,"currency":"wei","unit":"seconds"}}]}]',
    );
    expect(goJsonText(node.runners)).toBe(
      '[{"url":"https://r/s?a=1\\u0026b=\\u003c2\\u003e","app":"fal\\u2028\\u003cx\\u003e","capacity":1,' +
        '"capacity_used":0,"capacity_available":0,"price_info":{"price":5,"currency":"wei","unit":"seconds"}}]',
    );
  });

  it('refuses to write a NumberText that holds no JSON number (Go fails the encode)', () => {
    expect(() => goJsonText({ price: new NumberText('1/3') })).toThrow('is not a JSON number');
  });
});

describe('maxPrice numbers, exactly as Go reads them', () => {
  const body = (price: string) =>
    parseGoJson(`{"orchestrator":"eA==","maxPrice":{"Price":${price},"currency":"wei","unit":"seconds"}}`);

  it('hands a JSON number on as its text: more than 15 significant digits are kept', () => {
    const r = parseLivePaymentRequest(body('123456789012345678901'));
    expect(r.maxPrice).toEqual({ price: '123456789012345678901', currency: 'wei', unit: 'seconds' });
    const big = parseMaxPrice(r.maxPrice, 'live')!;
    expect([big.num, big.den]).toEqual([123456789012345678901n, 1n]);
    const tiny = parseMaxPrice(parseLivePaymentRequest(body('0.99999999999999999')).maxPrice, 'live')!;
    expect([tiny.num, tiny.den]).toEqual([99999999999999999n, 10n ** 17n]);
  });

  it('takes a string or an object not parsed here as before', () => {
    expect(goMaxPrice({ price: 1e-7, currency: 'wei', unit: 'seconds' })).toEqual({
      price: 1e-7,
      currency: 'wei',
      unit: 'seconds',
    });
    const r = parseLivePaymentRequest(body('"2.5E-4"'));
    expect((r.maxPrice as { price: unknown }).price).toBe('2.5E-4');
  });
});

/** The error code a parse throws, or NO_ERROR. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as { code?: string }).code ?? 'UNCODED';
  }
  return 'NO_ERROR';
}

const live = (body: string) => parseLivePaymentRequest(parseGoJson(body));
const byoc = (body: string) => parseByocJobRequest(parseGoJson(body));

// Each expectation below was checked against Go's encoding/json (json.NewDecoder(…).Decode into
// go-livepeer's RemotePaymentRequest / SignBYOCJobRequestInput shapes, json.Unmarshal for authResponse).
describe('keys filled as Go fills a struct: every folded match in document order', () => {
  it('the last occurrence wins, whatever its case and wherever an exact-case key sits', () => {
    expect(live('{"orchestrator":"eA==","inPixels":1,"InPixels":2,"inPixels":3}').inPixels).toBe(3n);
    expect(
      live('{"orchestrator":"eA==","MANIFESTID":"a","ManifestID":"b","manifestid":"c"}').manifestId,
    ).toBe('c');
    const state = live('{"orchestrator":"eA==","state":{"Sig":"eQ==","sig":"eg==","SIG":"eA=="}}').state!;
    expect(Buffer.from(state.sig).toString()).toBe('x');
    const maxPrice = live(
      '{"orchestrator":"eA==","maxPrice":{"price":1,"Price":2,"price":3,"currency":"wei","unit":"seconds"}}',
    ).maxPrice;
    expect(maxPrice).toEqual({ price: '3', currency: 'wei', unit: 'seconds' });
  });

  it('null leaves a string, integer or struct field as it was, and empties []byte and pointer fields', () => {
    const r = live('{"orchestrator":"eA==","ManifestID":"m","manifestid":null,"inPixels":5,"inPixels":null}');
    expect([r.manifestId, r.inPixels]).toEqual(['m', 5n]);
    expect(
      live('{"orchestrator":"eA==","state":{"State":"eA==","Sig":"eQ=="},"state":null}').state,
    ).toBeDefined();
    expect(refusal(() => live('{"orchestrator":"eA==","Orchestrator":null}'))).toBe('INVALID_REQUEST');
    const reset = live(
      '{"orchestrator":"eA==","maxPrice":{"price":1,"currency":"wei","unit":"seconds"},"maxPrice":null}',
    );
    expect(reset.maxPrice ?? null).toBeNull();
  });

  it('a repeated struct or *struct key fills the fields each object names (Go decodes into the same value)', () => {
    const r = live('{"orchestrator":"eA==","state":{"State":"eA==","Sig":"eQ=="},"STATE":{"sig":"eg=="}}');
    expect(Buffer.from(r.state!.state).toString()).toBe('x');
    expect(Buffer.from(r.state!.sig).toString()).toBe('z');
    const merged = live(
      '{"orchestrator":"eA==","maxPrice":{"price":7,"currency":"wei"},"MaxPrice":{"unit":"seconds"}}',
    ).maxPrice;
    expect(merged).toEqual({ price: '7', currency: 'wei', unit: 'seconds' });
    const afterNull = live(
      '{"orchestrator":"eA==","maxPrice":{"price":7,"currency":"wei"},"maxPrice":null,"maxPrice":{"unit":"s"}}',
    ).maxPrice;
    expect(afterNull).toEqual({ price: undefined, currency: undefined, unit: 's' });
  });

  it('any occurrence of the wrong type is refused, even one a later key would replace', () => {
    expect(refusal(() => live('{"orchestrator":"eA==","ManifestID":5,"manifestid":"m"}'))).toBe(
      'INVALID_REQUEST',
    );
    expect(refusal(() => live('{"orchestrator":"eA==","inPixels":"1","inPixels":2}'))).toBe(
      'INVALID_REQUEST',
    );
    expect(refusal(() => live('{"orchestrator":"eA==","state":{"Sig":5},"state":{"Sig":"eA=="}}'))).toBe(
      'INVALID_REQUEST',
    );
  });

  it('folds keys as Go does: ſ matches s and the Kelvin sign k, other look-alikes match nothing', () => {
    const r = live(
      '{"orchestrator":"eA==","\u017ftate":{"State":"eA==","\u017fig":"eQ=="},"manifestId":"m"}',
    );
    expect(Buffer.from(r.state!.sig).toString()).toBe('y');
    expect(live('{"orchestrator":"eA==","\u0131nPixels":7,"\u0130nPixels":8}').inPixels).toBe(0n);
    expect(byoc('{"id":"j","capability":"c","timeout_seconds":2,"timeout_\u017feconds":1}')).toMatchObject({
      job: { timeoutSeconds: 1 },
    });
    expect(
      parseByocJobRequest(parseGoJson('{"id":"j","capability":"c","timeout_seconds":30}')),
    ).toMatchObject({
      format: 'v1',
    });
  });
});

describe('integer fields refuse a number with a fraction or exponent, as Go (400)', () => {
  const base = '"orchestrator":"eA==","ManifestID":"m"';
  it.each(['1.0', '1e3', '1.5', '1E+3', '-0.0', '9223372036854775808'])('inPixels %s', (n) => {
    expect(refusal(() => live(`{${base},"inPixels":${n}}`))).toBe('INVALID_REQUEST');
    expect(refusal(() => live(`{${base},"timeoutSeconds":${n}}`))).toBe('INVALID_REQUEST');
    expect(refusal(() => byoc(`{"id":"j","capability":"c","timeout_seconds":${n}}`))).toBe('INVALID_REQUEST');
  });

  it('even in an occurrence a later key replaces; a plain integer (or -0) is taken', () => {
    expect(refusal(() => live(`{${base},"inPixels":1.0,"inPixels":2}`))).toBe('INVALID_REQUEST');
    expect(live(`{${base},"inPixels":-0,"timeoutSeconds":120}`)).toMatchObject({
      inPixels: 0n,
      timeoutSeconds: 120n,
    });
    expect(byoc('{"id":"j","capability":"c","timeout_seconds":60}')).toMatchObject({
      job: { timeoutSeconds: 60 },
    });
  });

  it('the refusal names the field and says why', () => {
    expect(() => live(`{${base},"inPixels":1e3}`)).toThrow(/inPixels .*integer/);
    expect(() => byoc('{"id":"j","capability":"c","timeout_seconds":6e1}')).toThrow(
      /timeout_seconds .*integer/,
    );
  });
});

describe('trailing data after the first JSON value', () => {
  it("a signer request body is read as Go's json.Decoder reads it: the first value, the rest ignored", () => {
    expect(signerJson('{"a":1} trailing garbage {')).toEqual({ a: 1 });
    expect(signerJson('{"a":1}}')).toEqual({ a: 1 });
    expect(signerJson(' {"a":[1,2]}{"a":3}')).toEqual({ a: [1, 2] });
    expect(refusal(() => signerJson('{"a":1'))).toBe('INVALID_REQUEST');
    expect(refusal(() => signerJson('x{"a":1}'))).toBe('INVALID_REQUEST');
  });

  it('parseGoJson (the webhook reply, read as json.Unmarshal reads it) refuses it', () => {
    expect(() => parseGoJson('{"status":200} x')).toThrow(SyntaxError);
    expect(parseGoJson('{"status":200}  \n')).toEqual({ status: 200 });
  });
});

describe("nesting depth: Go's limit of 10000 levels", () => {
  const arrays = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const objects = (n: number) => '{"a":'.repeat(n - 1) + '{}' + '}'.repeat(n - 1);

  it('takes 10000 levels and refuses 10001, arrays or objects, without exhausting the stack', () => {
    expect(parseGoJson(arrays(10_000))).toBeInstanceOf(Array);
    expect(() => parseGoJson(arrays(10_001))).toThrow(/10000/);
    expect(parseGoJson(objects(10_000))).toBeInstanceOf(Object);
    expect(() => parseGoJson(objects(10_001))).toThrow(/10000/);
    expect(() => parseGoJson('['.repeat(1_000_000))).toThrow(SyntaxError);
  });

  it('a signer body 10000 levels deep (under 100 kB) is read; one level more is a 400', () => {
    const deep = `{"orchestrator":"eA==","x":${arrays(9_999)}}`;
    expect(deep.length).toBeLessThan(100 * 1024);
    expect(parseLivePaymentRequest(signerJson(deep)).orchestrator).toEqual(new Uint8Array([0x78]));
    expect(refusal(() => signerJson(`{"orchestrator":"eA==","x":${arrays(10_000)}}`))).toBe(
      'INVALID_REQUEST',
    );
  });
});
