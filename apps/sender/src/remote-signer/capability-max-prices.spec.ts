import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capabilityModelsCodec } from '#app/proto';
import { Rational } from '#app/ticket';
import { capabilitiesMaxPrice, parseCapabilityMaxPrices } from './capability-max-prices.js';

const doc = (entries: unknown[]) => JSON.stringify({ capabilities_prices: entries });
const LV2V = 35;
const T2I = 27;

describe("go-livepeer's -maxPricePerCapability", () => {
  const prices = parseCapabilityMaxPrices(
    doc([
      {
        pipeline: 'live-video-to-video',
        model_id: 'streamdiffusion',
        price_per_unit: 1000,
        pixels_per_unit: 3,
      },
      { pipeline: 'live-video-to-video', price_per_unit: '1/2', pixels_per_unit: 1, currency: 'WEI' },
      {
        pipeline: 'text-to-image',
        model_id: 'sd-turbo',
        price_per_unit: '0.25',
        pixels_per_unit: '1',
        currency: 'wei',
      },
    ]),
  );

  it('reads wei prices per pipeline and model, a missing model_id pricing the pipeline by default', () => {
    expect(prices.get(LV2V)?.get('streamdiffusion')).toEqual(Rational.of(1000n, 3n));
    expect(prices.get(LV2V)?.get('default')).toEqual(Rational.of(1n, 2n));
    expect(prices.get(T2I)?.get('sd-turbo')).toEqual(Rational.of(1n, 4n));
  });

  it('reads the JSON from a file when given its path, as go-livepeer does', () => {
    const file = join(tmpdir(), `ticketpay-cap-prices-${process.pid}.json`);
    writeFileSync(file, doc([{ pipeline: 'llm', model_id: 'm', price_per_unit: 7, pixels_per_unit: 1 }]));
    expect(parseCapabilityMaxPrices(file).get(33)?.get('m')).toEqual(Rational.of(7n));
  });

  it('refuses what it cannot price exactly in wei, with the entry named', () => {
    const bad: [unknown, RegExp][] = [
      [
        [{ pipeline: 'transcoding', price_per_unit: 1, pixels_per_unit: 1 }],
        /\[0\]\.pipeline must be one of/,
      ],
      [[{ pipeline: 'llm', price_per_unit: 1, pixels_per_unit: 1, currency: 'USD' }], /currency must be WEI/],
      [[{ pipeline: 'llm', price_per_unit: 0, pixels_per_unit: 1 }], /price_per_unit must be/],
      [[{ pipeline: 'llm', price_per_unit: 1 }], /pixels_per_unit must be/],
      [[{ pipeline: 'llm', price_per_unit: '1/0', pixels_per_unit: 1 }], /zero denominator/],
      [[{ pipeline: 'llm', price_per_unit: true, pixels_per_unit: 1 }], /price_per_unit/],
    ];
    for (const [entries, why] of bad)
      expect(() => parseCapabilityMaxPrices(doc(entries as unknown[]))).toThrow(why);
    expect(() => parseCapabilityMaxPrices('{"capabilities_prices": {}}')).toThrow(/capabilities_prices/);
    expect(() => parseCapabilityMaxPrices('not json')).toThrow(/not JSON/);
  });

  describe('the maximum price of a request, as GetCapabilitiesMaxPrice', () => {
    const global = Rational.of(100n);
    const caps = (named: { capability: number; models: string[] }[]) => capabilityModelsCodec.encode(named);

    it("is a named model's price, even above the global one", () => {
      expect(
        capabilitiesMaxPrice(prices, caps([{ capability: LV2V, models: ['streamdiffusion'] }]), global),
      ).toEqual(Rational.of(1000n, 3n));
    });

    it("is the pipeline's default for a model without its own price", () => {
      expect(capabilitiesMaxPrice(prices, caps([{ capability: LV2V, models: ['other'] }]), global)).toEqual(
        Rational.of(1n, 2n),
      );
    });

    it('sums the prices of every model named, over capabilities', () => {
      const both = caps([
        { capability: LV2V, models: ['streamdiffusion', 'other'] },
        { capability: T2I, models: ['sd-turbo'] },
      ]);
      expect(capabilitiesMaxPrice(prices, both, global)).toEqual(
        Rational.of(1000n, 3n).add(Rational.of(1n, 2n)).add(Rational.of(1n, 4n)),
      );
    });

    it('is the global one when nothing named is priced, or nothing is named', () => {
      expect(capabilitiesMaxPrice(prices, caps([{ capability: T2I, models: ['unpriced'] }]), global)).toBe(
        global,
      );
      expect(capabilitiesMaxPrice(prices, caps([{ capability: 33, models: ['m'] }]), global)).toBe(global);
      expect(capabilitiesMaxPrice(prices, new Uint8Array(0), global)).toBe(global);
      expect(capabilitiesMaxPrice(prices, caps([]), undefined)).toBeUndefined();
      expect(
        capabilitiesMaxPrice(new Map(), caps([{ capability: LV2V, models: ['streamdiffusion'] }]), global),
      ).toBe(global);
    });
  });
});
