import { describe, expect, it } from 'vitest';
import { capabilityModelsCodec, type OrchestratorInfo } from '#app/proto';
import { Rational, type PriceInfo } from '#app/ticket';
import { judgeOrchestrator, offering, type DiscoveredOrchestrator } from './discovery-entry.js';

const LV2V = 35;
const T2I = 27;
const price = (pricePerUnit: bigint, pixelsPerUnit = 1n, capability = 0, constraint = ''): PriceInfo => ({
  pricePerUnit,
  pixelsPerUnit,
  capability,
  constraint,
});

function info(overrides: Partial<OrchestratorInfo> = {}): OrchestratorInfo {
  return {
    transcoder: 'https://o.example:8935',
    address: new Uint8Array(20).fill(7),
    priceInfo: price(100n),
    capabilities: capabilityModelsCodec.encode([
      { capability: LV2V, models: ['streamdiffusion', 'pricey'] },
      { capability: T2I, models: ['sd-turbo'] },
      // an id go-livepeer has no name for is not listed
      { capability: 99, models: ['x'] },
    ]),
    ...overrides,
  };
}

const noCeiling = () => undefined;

describe("remote discovery: which orchestrators and capabilities are listed (go-livepeer's rules)", () => {
  it("lists every named model as <pipeline>/<model>, sorted, score 1, at O's own URL", () => {
    expect(judgeOrchestrator(info(), [], noCeiling)).toEqual({
      entry: {
        address: 'https://o.example:8935',
        score: 1,
        capabilities: [
          'live-video-to-video/pricey',
          'live-video-to-video/streamdiffusion',
          'text-to-image/sd-turbo',
        ],
      },
    });
  });

  it("prices a model by its own capabilities_prices entry, else the global price, against the model's ceiling", () => {
    const prices = [price(2_000n, 1n, LV2V, 'pricey'), price(1n, 0n, T2I, 'sd-turbo')];
    const ceiling = (capability: number, model: string) =>
      capability === LV2V && model === 'pricey' ? Rational.of(1_000n) : Rational.of(100n);
    const judged = judgeOrchestrator(info(), prices, ceiling);
    // pricey: 2,000 > 1,000; sd-turbo's own entry has pixelsPerUnit 0, so it does not count and the
    // global 100 prices it, as it does streamdiffusion: both within 100.
    expect(judged).toEqual({
      entry: expect.objectContaining({
        capabilities: ['live-video-to-video/streamdiffusion', 'text-to-image/sd-turbo'],
      }) as unknown,
    });
    expect(judgeOrchestrator(info(), [], () => Rational.of(99n))).toEqual({
      refused: 'no capability priced within the ceilings',
    });
  });

  it('refuses a reply without recipient, any usable price, http(s) service URL or any AI model', () => {
    const refused = (o: Partial<OrchestratorInfo>) => judgeOrchestrator(info(o), [], noCeiling);
    expect(refused({ address: new Uint8Array(0) })).toEqual({ refused: 'no ticket recipient address' });
    expect(refused({ priceInfo: undefined })).toEqual({ refused: 'no valid price' });
    // The global price is needed only by models without a usable price of their own.
    const own = [price(50n, 1n, LV2V, 'pricey'), price(50n, 0n, T2I, 'sd-turbo')];
    expect(judgeOrchestrator(info({ priceInfo: undefined }), own, noCeiling)).toEqual({
      entry: expect.objectContaining({ capabilities: ['live-video-to-video/pricey'] }) as unknown,
    });
    expect(judgeOrchestrator(info({ priceInfo: undefined }), own, () => Rational.of(10n))).toEqual({
      refused: 'no capability priced within the ceilings',
    });
    expect(refused({ priceInfo: price(5n, 0n) })).toEqual({ refused: 'no valid price' });
    expect(refused({ priceInfo: price(-5n) })).toEqual({ refused: 'no valid price' });
    for (const transcoder of ['', 'o.example:8935', 'ftp://o.example', 'https://']) {
      expect(refused({ transcoder })).toHaveProperty('refused');
    }
    expect(refused({ capabilities: new Uint8Array(0) })).toEqual({
      refused: 'no capability priced within the ceilings',
    });
    expect(refused({ capabilities: Uint8Array.of(0x2a, 0x05, 0xff) })).toEqual({
      refused: 'malformed capabilities',
    });
  });

  it('filters by exact capability names, in the order asked, each orchestrator once', () => {
    const a: DiscoveredOrchestrator = {
      address: 'https://a',
      score: 1,
      capabilities: ['llm/x', 'text-to-image/y'],
    };
    const b: DiscoveredOrchestrator = { address: 'https://b', score: 1, capabilities: ['text-to-image/y'] };
    const c: DiscoveredOrchestrator = { address: 'https://c', score: 1, capabilities: ['llm/x'] };
    expect(offering([a, b, c], [])).toEqual([a, b, c]);
    expect(offering([a, b, c], ['text-to-image/y'])).toEqual([a, b]);
    expect(offering([a, b, c], ['llm/x', 'text-to-image/y'])).toEqual([a, c, b]);
    expect(offering([a, b, c], ['LLM/x', 'llm'])).toEqual([]);
  });
});
