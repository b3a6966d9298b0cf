import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { InjectRedis } from '#app/common';
import { priceInfoCodec, ticketParamsCodec } from '#app/proto';
import { blocksUntilParamsExpire, paramsLifeBoundMs, type PriceInfo, type TicketParams } from '#app/ticket';
import { sessionId, type SessionKey } from './session-id.js';

/** A session as stored: O's params, the price they came with and the last nonce issued. */
export interface StoredSession {
  params: TicketParams;
  price: PriceInfo;
  nonce: number;
}

export type StartOutcome =
  /** `nonce` is the floor the counter started at (0 unless one was given). */
  | { kind: 'created'; nonce: number }
  | { kind: 'resumed'; nonce: number }
  /** Same sender and recipientRandHash, different params or price. */
  | { kind: 'conflict' };

export type AllocateOutcome =
  /** Nonces `last − size + 1 … last` are this caller's alone. */
  | { kind: 'allocated'; last: number }
  /** No live session (never started, ended or expired). */
  | { kind: 'missing' }
  /** The batch would pass the cap; nothing was allocated. */
  | { kind: 'cap'; nonce: number };

// One Redis hash per session: params (proto bytes), price (proto bytes), nonce (last issued),
// ended (present once EndSession ran). Scripts keep each operation a single atomic step, so any
// number of Sender replicas can share sessions.

// Creates the session, or resumes it when the same params are started again: the counter is
// never reset, since O refuses a nonce it has seen for these params; a floor (ARGV[4]) only ever
// raises it. TTL only ever grows.
const START_LUA = `
local key = KEYS[1]
local floor = tonumber(ARGV[4])
if redis.call('EXISTS', key) == 1 then
  local v = redis.call('HMGET', key, 'params', 'price', 'nonce')
  if v[1] ~= ARGV[1] or v[2] ~= ARGV[2] then return {-1, 0} end
  redis.call('HDEL', key, 'ended')
  if redis.call('PTTL', key) < tonumber(ARGV[3]) then redis.call('PEXPIRE', key, ARGV[3]) end
  local n = tonumber(v[3])
  if floor > n then
    redis.call('HSET', key, 'nonce', floor)
    n = floor
  end
  return {1, n}
end
redis.call('HSET', key, 'params', ARGV[1], 'price', ARGV[2], 'nonce', floor)
redis.call('PEXPIRE', key, ARGV[3])
return {0, floor}`;

// Reserves ARGV[1] consecutive nonces with one increment, unless the session is gone or ended
// (a bare HINCRBY would resurrect it as a hash without TTL) or the batch would pass the cap.
const ALLOCATE_LUA = `
local v = redis.call('HMGET', KEYS[1], 'nonce', 'ended')
if not v[1] or v[2] then return {-1, 0} end
local n = tonumber(v[1])
if n + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return {-2, n} end
return {0, redis.call('HINCRBY', KEYS[1], 'nonce', ARGV[1])}`;

// Marks the session ended but keeps its counter until the TTL, so restarting the same params
// continues after the last nonce instead of reissuing nonces O has already seen.
const END_LUA = `
local v = redis.call('HMGET', KEYS[1], 'nonce', 'ended')
if not v[1] or v[2] then return 0 end
redis.call('HSET', KEYS[1], 'ended', '1')
return 1`;

type Script = (key: string, ...args: (string | number | Buffer)[]) => Promise<[number, number] | number>;

/** Sessions and nonce counters in Redis (under the service's key prefix). */
@Injectable()
export class SessionStore {
  private readonly startScript: Script;
  private readonly allocateScript: Script;
  private readonly endScript: Script;

  constructor(@InjectRedis() private readonly redis: Redis) {
    this.startScript = this.script('ticketpaySenderStart', START_LUA);
    this.allocateScript = this.script('ticketpaySenderAllocate', ALLOCATE_LUA);
    this.endScript = this.script('ticketpaySenderEnd', END_LUA);
  }

  async start(
    key: SessionKey,
    params: TicketParams,
    price: PriceInfo,
    ttlMs: number,
    nonceFloor = 0,
  ): Promise<StartOutcome> {
    const [code, nonce] = (await this.startScript(
      sessionRedisKey(key),
      Buffer.from(ticketParamsCodec.encode(params)),
      Buffer.from(priceInfoCodec.encode(price)),
      ttlMs,
      nonceFloor,
    )) as [number, number];
    if (code === 0) return { kind: 'created', nonce };
    if (code === 1) return { kind: 'resumed', nonce };
    return { kind: 'conflict' };
  }

  /** The live session, or undefined when it is missing or ended. */
  async load(key: SessionKey): Promise<StoredSession | undefined> {
    const [params, price, nonce, ended] = await this.redis.hmgetBuffer(
      sessionRedisKey(key),
      'params',
      'price',
      'nonce',
      'ended',
    );
    if (!params || !price || !nonce || ended) return undefined;
    return {
      params: ticketParamsCodec.decode(params),
      price: priceInfoCodec.decode(price),
      nonce: Number(nonce.toString()),
    };
  }

  async allocate(key: SessionKey, size: number, cap: number): Promise<AllocateOutcome> {
    const [code, value] = (await this.allocateScript(sessionRedisKey(key), size, cap)) as [number, number];
    if (code === 0) return { kind: 'allocated', last: value };
    if (code === -1) return { kind: 'missing' };
    return { kind: 'cap', nonce: value };
  }

  /** True when a live session was ended. */
  async end(key: SessionKey): Promise<boolean> {
    return (await this.endScript(sessionRedisKey(key))) === 1;
  }

  private script(name: string, lua: string): Script {
    const client = this.redis as unknown as Record<string, Script | undefined>;
    if (typeof client[name] !== 'function') this.redis.defineCommand(name, { numberOfKeys: 1, lua });
    return (client[name] as Script).bind(this.redis);
  }
}

/** `{…}` is a hash tag: a session is one key, kept whole on one Redis Cluster slot. */
export function sessionRedisKey(key: SessionKey): string {
  return `sender:session:{${sessionId(key)}}`;
}

/** Params that claim to last longer still get at most a week. */
const MAX_SESSION_TTL_MS = 7n * 24n * 3_600_000n;

/** Redis TTL of a session whose params expire at `expirationBlock` (paramsLifeBoundMs). */
export function sessionTtlMs(expirationBlock: bigint, l1Block: bigint, l1BlockSeconds: number): number {
  const remaining = blocksUntilParamsExpire(expirationBlock, l1Block) || 1n;
  const ms = paramsLifeBoundMs(remaining, l1BlockSeconds);
  return Number(ms > MAX_SESSION_TTL_MS ? MAX_SESSION_TTL_MS : ms);
}
