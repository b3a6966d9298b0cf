import { describe, expect, it } from 'vitest';
import { Rational } from '#app/ticket';
import { goJsonText } from '../go-json.js';
import type { DiscoveredOrchestrator } from './discovery-entry.js';
import {
  readRunnerDiscovery,
  runnerRefused,
  withRunners,
  type LiveRunner,
  type RunnerNode,
} from './live-runners.js';

const O = 'https://o.example:8935';
const runner = (app: string, more: Partial<LiveRunner> = {}): LiveRunner => {
  const [r] = readRunnerDiscovery(
    JSON.stringify([
      {
        address: O,
        runners: [
          {
            url: `${O}/apps/${app}/session`,
            app,
            capacity: 1,
            price_info: { price: 5, currency: 'wei', unit: 'seconds' },
          },
        ],
      },
    ]),
  )[0].runners;
  return { ...r, ...more };
};

describe('readRunnerDiscovery', () => {
  it("reads an orchestrator's /discovery reply as Go decodes it: any key case, unknown members ignored, null as empty", () => {
    const [node] = readRunnerDiscovery(
      `[{"ADDRESS": "${O}", "extra": true, "Runners": [{"url": "u", "App": "a", "gpu": 3, "capacity": 2, "price_info": {"price": "1.50", "currency": "wei", "unit": "seconds"}}]}, null]`,
    );
    expect(node.address).toBe(O);
    expect(goJsonText(node.runners)).toBe(
      '[{"url":"u","gpu":{"id":"3"},"app":"a","capacity":2,"capacity_used":0,"capacity_available":0,"price_info":{"price":1.50,"currency":"wei","unit":"seconds"}}]',
    );
    expect(readRunnerDiscovery('null')).toEqual([]);
    expect(readRunnerDiscovery('[{"address": "x"}]')).toEqual([{ address: 'x', runners: [] }]);
  });

  it('refuses the whole reply where Go json.Unmarshal fails: a member of the wrong type, anywhere', () => {
    const one = (r: Record<string, unknown>) => JSON.stringify([{ address: O, runners: [r] }]);
    for (const bad of [
      '{}',
      '[1]',
      JSON.stringify([{ address: 5 }]),
      JSON.stringify([{ address: O, runners: {} }]),
      one({ url: 'u', capacity: '2' }),
      one({ url: 'u', capacity: 1.5 }),
      one({ url: 7 }),
      one({ url: 'u', gpu: 'big' }),
      one({ url: 'u', price_info: { price: 'cheap' } }),
      one({ url: 'u', price_info: { price: ' 1' } }),
      one({ url: 'u', price_info: { currency: 1 } }),
    ]) {
      expect(() => readRunnerDiscovery(bad), bad).toThrow();
    }
  });
});

describe('runnerRefused', () => {
  it('lists a runner with a URL, an app and a positive wei price per second or 720p-pixel-second within the max', () => {
    const max = Rational.of(10n);
    expect(runnerRefused(runner('a'), max)).toBeUndefined();
    expect(runnerRefused(runner('a'), undefined)).toBeUndefined();
    const priced = (price: string, currency = 'wei', unit = 'seconds') =>
      runner('a', { price_info: { ...runner('a').price_info!, price: { text: price }, currency, unit } });
    expect(runnerRefused(priced('10', ' WEI ', '720P-Pixel-Seconds'), max)).toBeUndefined();
    expect(runnerRefused(priced('10.000000000000000001'), max)).toBe('above the max price');
    expect(runnerRefused(priced('0'), max)).toBe('invalid price');
    expect(runnerRefused(priced('-1'), max)).toBe('invalid price');
    expect(runnerRefused(priced('1', 'usd'), max)).toBe('unsupported currency');
    expect(runnerRefused(priced('1', 'wei', 'usage'), max)).toBe('unsupported unit');
    expect(runnerRefused(runner('a', { price_info: undefined }), max)).toBe('invalid price');
    expect(runnerRefused(runner('a', { url: '' }), max)).toBe('missing URL');
    expect(runnerRefused(runner(' ', {}), max)).toBe('missing app');
  });
});

describe('withRunners', () => {
  const listed = (address: string, ...capabilities: string[]): DiscoveredOrchestrator => ({
    address,
    score: 1,
    capabilities,
  });
  const notes = () => {
    const seen: string[] = [];
    return {
      seen,
      notes: {
        filtered: (_o: string, r: LiveRunner, why: string) => seen.push(`filtered ${r.app}: ${why}`),
        conflict: (_o: string, url: string) => seen.push(`conflict ${url}`),
      },
    };
  };
  const refuse = (r: LiveRunner) => (r.app === 'bad' ? 'bad app' : undefined);
  const reply = (...nodes: RunnerNode[]) => ({ nodes, refused: refuse });

  it('merges runners into the listed orchestrator at their address (trailing / ignored), apps as capabilities, sorted', () => {
    const { seen, notes: n } = notes();
    const out = withRunners(
      [listed(O, 'text-to-image/m'), listed('https://p.example', 'llm/x')],
      [reply({ address: `${O}/`, runners: [runner('zeta'), runner('bad'), runner('alpha')] })],
      n,
    );
    expect(out.map((o) => [o.address, o.capabilities, o.runners?.map((r) => r.app)])).toEqual([
      [O, ['alpha', 'text-to-image/m', 'zeta'], ['zeta', 'alpha']],
      ['https://p.example', ['llm/x'], undefined],
    ]);
    expect(seen).toEqual(['filtered bad: bad app']);
  });

  it('adds an entry for a node no listed orchestrator is at, once it has a runner; skips addresses that are not URLs', () => {
    const { notes: n } = notes();
    const out = withRunners(
      [],
      [
        reply(
          { address: 'https://n.example/', runners: [runner('a')] },
          { address: 'https://empty.example', runners: [runner('bad')] },
          { address: 'not a url', runners: [runner('b')] },
          { address: '', runners: [runner('c')] },
        ),
        reply({ address: 'https://n.example', runners: [runner('d')] }),
      ],
      n,
    );
    expect(out.map((o) => [o.address, o.score, o.capabilities])).toEqual([
      ['https://n.example/', 1, ['a', 'd']],
    ]);
  });

  it('keeps the first runner at a URL; another unlike it (capacity in use aside) is noted as a conflict', () => {
    const { seen, notes: n } = notes();
    const first = runner('a');
    const out = withRunners(
      [listed(O, 'llm/x')],
      [
        reply({ address: O, runners: [first, { ...first, capacity_used: 1n, capacity_available: 0n }] }),
        reply({ address: O, runners: [{ ...first, version: '2' }] }),
      ],
      n,
    );
    expect(out[0].runners).toEqual([first]);
    expect(seen).toEqual([`conflict ${first.url}`]);
  });

  it("judges each runner by its own reply's rule (the ceiling of the orchestrator that listed it)", () => {
    const out = withRunners(
      [],
      [
        { nodes: [{ address: O, runners: [runner('a')] }], refused: () => 'over its ceiling' },
        { nodes: [{ address: O, runners: [runner('b')] }], refused: () => undefined },
      ],
      notes().notes,
    );
    expect(out.map((o) => o.capabilities)).toEqual([['b']]);
  });

  it('leaves the listed entries it was given as they were', () => {
    const given = [listed(O, 'llm/x')];
    withRunners(given, [reply({ address: O, runners: [runner('a')] })], notes().notes);
    expect(given).toEqual([listed(O, 'llm/x')]);
  });
});
