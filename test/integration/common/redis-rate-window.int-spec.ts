import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisRateWindow, type RateTake } from '#app/common';

const LIMIT = 10;

/** The granted take, failing the test when it was refused. */
function granted(take: RateTake): Extract<RateTake, { taken: true }> {
  if (!take.taken) throw new Error(`expected the take to be granted, ${take.used} were used`);
  return take;
}

/** Waits for the start of the next one-second window, so a test's calls share one window. */
async function nextWindow(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1_000 - (Date.now() % 1_000) + 20));
}

/** RedisRateWindow against a real Redis: two connections stand for two replicas. */
describe('RedisRateWindow', () => {
  const prefix = `${inject('redisPrefix')}rate-window:`;
  let a: Redis;
  let b: Redis;
  let raw: Redis;
  let n = 0;
  /** A fresh subject per test, so windows of other tests never mix in. */
  const subject = () => `subject-${++n}`;
  const window = (redis: Redis, limit = LIMIT) =>
    new RedisRateWindow(redis, { namespace: 'test:rate', limit });
  /** The subject's window keys, read without the client prefix. */
  const keysOf = (s: string) => raw.keys(`${prefix}test:rate:{${s}}:*`);

  beforeAll(() => {
    a = new Redis(inject('redisUrl'), { keyPrefix: prefix });
    b = new Redis(inject('redisUrl'), { keyPrefix: prefix });
    raw = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await Promise.all([a, b, raw].map((r) => r?.quit()));
  });

  it('grants concurrent takes from two connections exactly up to the limit, and refuses the rest whole', async () => {
    const s = subject();
    const [wa, wb] = [window(a), window(b)];
    await nextWindow();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? wa : wb).take(s, 3)),
    );
    expect(outcomes.filter((o) => o.taken)).toHaveLength(3);
    for (const o of outcomes) {
      if (o.taken) continue;
      expect(o.used).toBe(9);
      expect(o.retryAfterMs).toBeGreaterThan(0);
      expect(o.retryAfterMs).toBeLessThanOrEqual(1_000);
    }
    expect(await wa.usage(s)).toMatchObject({ used: 9 });
    // One unit still fits; two do not.
    expect((await wb.take(s, 2)).taken).toBe(false);
    expect((await wb.take(s, 1)).taken).toBe(true);
    expect(await wa.usage(s)).toMatchObject({ used: LIMIT });
  });

  it('counts nothing for a refused take, not even an empty window key', async () => {
    const s = subject();
    const refused = await window(a).take(s, LIMIT + 1);
    expect(refused).toMatchObject({ taken: false, used: 0 });
    expect(await keysOf(s)).toEqual([]);
  });

  it('gives released units back once, and never recreates a window that is gone', async () => {
    const s = subject();
    const w = window(a);
    await nextWindow();
    const first = granted(await w.take(s, 6));
    expect((await w.take(s, 6)).taken).toBe(false);
    await first.release();
    await first.release();
    expect(await w.usage(s)).toMatchObject({ used: 0 });
    granted(await w.take(s, 6));

    const late = granted(await w.take(s, 4));
    await raw.del(...(await keysOf(s)));
    await late.release();
    expect(await keysOf(s)).toEqual([]);
  });

  it('starts every subject with a whole budget in the next window, and expires old windows', async () => {
    const s = subject();
    const other = subject();
    const w = window(a);
    await nextWindow();
    expect((await w.take(s, LIMIT)).taken).toBe(true);
    expect((await w.take(s, 1)).taken).toBe(false);
    expect((await w.take(other, LIMIT)).taken).toBe(true);
    const [key] = await keysOf(s);
    const ttl = await raw.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2_000);
    await nextWindow();
    expect((await w.take(s, LIMIT)).taken).toBe(true);
  });

  it('add counts past the limit (check-then-count callers), usage reports it', async () => {
    const s = subject();
    const w = window(a);
    await nextWindow();
    await w.add(s, LIMIT + 5);
    expect(await w.usage(s)).toMatchObject({ used: LIMIT + 5 });
    expect((await w.take(s, 1)).taken).toBe(false);
  });

  it('with limit 0 allows everything and writes no key', async () => {
    const s = subject();
    const off = window(a, 0);
    expect(off.enabled).toBe(false);
    expect((await off.take(s, 1_000_000)).taken).toBe(true);
    await off.add(s, 1_000_000);
    expect(await off.usage(s)).toMatchObject({ used: 0 });
    expect(await keysOf(s)).toEqual([]);
    expect(() => window(a, -1)).toThrow(RangeError);
  });
});
