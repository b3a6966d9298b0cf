import type { Redis } from 'ioredis';

export interface RateWindowOptions {
  /** Key namespace, e.g. `recipient:rate`; keys are `<namespace>:{<subject>}:<window number>`. */
  namespace: string;
  /** Units one subject may use per window; 0 turns the limit off. */
  limit: number;
  /** Default one second. */
  windowMs?: number;
}

/** A subject's use of the current window. */
export interface RateUsage {
  used: number;
  /** Milliseconds until the current window ends and the subject's budget is whole again. */
  retryAfterMs: number;
}

export type RateTake =
  /** The units are counted; `release` gives them back if the work they stood for did not happen. */
  | { taken: true; release(): Promise<void> }
  /** Nothing was counted: the units do not fit in what is left of the window. */
  | ({ taken: false } & RateUsage);

// Counts `ARGV[1]` units unless they would take the window past `ARGV[2]`: one atomic step, so
// concurrent callers on any number of replicas never overshoot the limit together.
const TAKE_LUA = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return {0, used} end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, used}`;

// Gives units back to a window that still exists; a gone window is never recreated (it would
// linger without TTL, negative).
const RELEASE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('DECRBY', KEYS[1], ARGV[1])`;

type Script = (key: string, ...args: (string | number)[]) => Promise<unknown>;

/**
 * The Redis key of `subject`'s window under `namespace` at `now` (ms): the window's number, or
 * `total` when `windowMs` is 0 (one window for all time). `{…}` is a hash tag: one subject's
 * windows stay on one Redis Cluster slot, with its other keys.
 */
export function rateWindowKey(namespace: string, subject: string, now: number, windowMs: number): string {
  return `${namespace}:{${subject}}:${windowMs === 0 ? 'total' : Math.floor(now / windowMs)}`;
}

/**
 * Fixed-window counters in Redis, per subject (e.g. a sender address), shared by every replica
 * that uses the same Redis and key prefix. Windows are numbered from each replica's clock, so
 * replicas are expected to keep time (NTP); a skew only moves where a window starts. Keys expire
 * two windows after their last use. Not Nest-bound: the owner passes its Redis connection.
 */
export class RedisRateWindow {
  readonly limit: number;
  readonly windowMs: number;
  private readonly namespace: string;
  private readonly takeScript: Script;
  private readonly releaseScript: Script;

  constructor(
    private readonly redis: Redis,
    options: RateWindowOptions,
  ) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 0) {
      throw new RangeError(`rate limit must be a non-negative integer, got ${options.limit}`);
    }
    this.limit = options.limit;
    this.windowMs = options.windowMs ?? 1_000;
    this.namespace = options.namespace;
    this.takeScript = defineScript(redis, 'ticketpayRateWindowTake', TAKE_LUA);
    this.releaseScript = defineScript(redis, 'ticketpayRateWindowRelease', RELEASE_LUA);
  }

  /** False when the limit is 0: every method is then a no-op that touches no Redis key. */
  get enabled(): boolean {
    return this.limit > 0;
  }

  /** How much of the current window `subject` has used. */
  async usage(subject: string): Promise<RateUsage> {
    const now = Date.now();
    if (!this.enabled) return { used: 0, retryAfterMs: 0 };
    const used = Number((await this.redis.get(this.key(subject, now))) ?? 0);
    return { used, retryAfterMs: this.retryAfterMs(now) };
  }

  /**
   * Counts `units` in the current window without checking the limit, for callers that check
   * first (`usage`) and count only what turned out to be real work.
   */
  async add(subject: string, units: number): Promise<void> {
    if (!this.enabled || units === 0) return;
    const key = this.key(subject, Date.now());
    await this.redis
      .multi()
      .incrby(key, units)
      .pexpire(key, 2 * this.windowMs)
      .exec();
  }

  /** Counts `units` in the current window if they fit under the limit (atomically), else nothing. */
  async take(subject: string, units: number): Promise<RateTake> {
    if (!this.enabled || units === 0) return { taken: true, release: () => Promise.resolve() };
    const now = Date.now();
    const key = this.key(subject, now);
    const [ok, used] = (await this.takeScript(key, units, this.limit, 2 * this.windowMs)) as [number, number];
    if (ok === 1) {
      let released = false;
      return {
        taken: true,
        release: async () => {
          if (released) return;
          released = true;
          await this.releaseScript(key, units);
        },
      };
    }
    return { taken: false, used, retryAfterMs: this.retryAfterMs(now) };
  }

  private key(subject: string, now: number): string {
    return rateWindowKey(this.namespace, subject, now, this.windowMs);
  }

  private retryAfterMs(now: number): number {
    return this.windowMs - (now % this.windowMs);
  }
}

/** Registers `lua` as a command of `redis` once (every window on one connection shares it). */
function defineScript(redis: Redis, name: string, lua: string): Script {
  const client = redis as unknown as Record<string, Script | undefined>;
  if (typeof client[name] !== 'function') redis.defineCommand(name, { numberOfKeys: 1, lua });
  return (client[name] as Script).bind(redis);
}
