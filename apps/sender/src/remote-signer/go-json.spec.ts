import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMaxPrice } from '#app/ticket';
import { goMaxPrice, goNumberText, parseGoJson } from './go-json.js';
import { parseLivePaymentRequest } from './live-payment-request.js';

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

  it('refuses nesting deeper than any signer body has, without exhausting the stack', () => {
    expect(() => parseGoJson('['.repeat(50_000))).toThrow(SyntaxError);
    expect(parseGoJson('['.repeat(200) + ']'.repeat(200))).toBeInstanceOf(Array);
  });

  it("keeps each number member's source text, the key folded as Go folds it, the last winning", () => {
    const obj = parseGoJson('{"price":1,"Price":123456789012345678901,"unit":"1","n":1.50}') as object;
    expect(goNumberText(obj, 'PRICE')).toBe('123456789012345678901');
    expect(goNumberText(obj, 'n')).toBe('1.50');
    expect(goNumberText(obj, 'unit')).toBeUndefined();
    const replaced = parseGoJson('{"price":1,"price":"2"}') as object;
    expect(goNumberText(replaced, 'price')).toBeUndefined();
    expect(goNumberText({ price: 1 }, 'price')).toBeUndefined();
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
