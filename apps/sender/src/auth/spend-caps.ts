import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { InjectRedis, rateWindowKey } from '#app/common';
import type { Rational } from '#app/ticket';
import { SenderError, SenderErrorCode } from '../sender.error.js';
import type { ApiClient } from './api-tokens.js';

// Wei sums can pass 2^53 (and Redis' 64-bit integers), so they are kept as decimal strings and
// added, subtracted and compared digit by digit: one script, one atomic step for every replica.
const DECIMAL_LUA = `
local function add(a, b)
  local out, carry, i, j = {}, 0, #a, #b
  while i > 0 or j > 0 or carry > 0 do
    local s = (i > 0 and tonumber(a:sub(i, i)) or 0) + (j > 0 and tonumber(b:sub(j, j)) or 0) + carry
    table.insert(out, 1, tostring(s % 10))
    carry = math.floor(s / 10)
    i = i - 1
    j = j - 1
  end
  local r = table.concat(out):gsub('^0+', '')
  if r == '' then return '0' end
  return r
end
local function le(a, b)
  if #a ~= #b then return #a < #b end
  return a <= b
end
local function sub(a, b)
  if le(a, b) then return '0' end
  local out, borrow, i, j = {}, 0, #a, #b
  while i > 0 do
    local d = tonumber(a:sub(i, i)) - (j > 0 and tonumber(b:sub(j, j)) or 0) - borrow
    if d < 0 then d = d + 10; borrow = 1 else borrow = 0 end
    table.insert(out, 1, tostring(d))
    i = i - 1
    j = j - 1
  end
  local r = table.concat(out):gsub('^0+', '')
  if r == '' then return '0' end
  return r
end
`;

// ARGV: ev, faceValue, maxEV ('' = none), maxFaceValue ('' = none), ttl ms (0 = none).
const CHARGE_LUA = `${DECIMAL_LUA}
local ev = add(redis.call('HGET', KEYS[1], 'ev') or '0', ARGV[1])
local face = add(redis.call('HGET', KEYS[1], 'face') or '0', ARGV[2])
if ARGV[3] ~= '' and not le(ev, ARGV[3]) then return {0, 'ev'} end
if ARGV[4] ~= '' and not le(face, ARGV[4]) then return {0, 'face'} end
redis.call('HSET', KEYS[1], 'ev', ev, 'face', face)
if tonumber(ARGV[5]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return {1, ''}`;

// Gives a charge back to a window that still exists (a gone one is never recreated).
const REFUND_LUA = `${DECIMAL_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'ev', sub(redis.call('HGET', KEYS[1], 'ev') or '0', ARGV[1]),
  'face', sub(redis.call('HGET', KEYS[1], 'face') or '0', ARGV[2]))
return 1`;

type Script = (key: string, ...args: string[]) => Promise<unknown>;

/** A charge that went through; `refund` undoes it when the tickets were not signed after all. */
export interface SpendCharge {
  refund(): Promise<void>;
}

const NOTHING: SpendCharge = { refund: () => Promise.resolve() };

/**
 * Per-token spend caps (the `spendCap` of an API client): the EV and face value of every ticket a
 * token had signed, per fixed window or in total, in Redis so all replicas share them. A batch
 * that would pass a cap is refused before a nonce is taken or a ticket signed. EV is counted
 * rounded up to whole wei per batch, so a cap is never passed by rounding.
 */
@Injectable()
export class SpendCaps {
  private readonly chargeScript: Script;
  private readonly refundScript: Script;

  constructor(@InjectRedis() private readonly redis: Redis) {
    this.chargeScript = this.script('ticketpaySpendCharge', CHARGE_LUA);
    this.refundScript = this.script('ticketpaySpendRefund', REFUND_LUA);
  }

  async charge(client: ApiClient, ev: Rational, faceValue: bigint): Promise<SpendCharge> {
    const cap = client.spendCap;
    if (!cap) return NOTHING;
    const now = Date.now();
    const windowMs = cap.windowSeconds === undefined ? 0 : cap.windowSeconds * 1000;
    const key = rateWindowKey('sender:spend', client.name, now, windowMs);
    const evWei = ev.ceil().toString();
    const face = faceValue.toString();
    const [ok, which] = (await this.chargeScript(
      key,
      evWei,
      face,
      cap.maxEV?.toString() ?? '',
      cap.maxFaceValue?.toString() ?? '',
      String(windowMs === 0 ? 0 : 2 * windowMs),
    )) as [number, string];
    if (ok !== 1) {
      const what =
        which === 'ev' ? `EV cap of ${cap.maxEV} wei` : `face value cap of ${cap.maxFaceValue} wei`;
      const span = windowMs === 0 ? 'in total' : `per ${cap.windowSeconds} s window`;
      throw new SenderError(
        SenderErrorCode.SPEND_CAP_REACHED,
        `API client "${client.name}" would pass its ${what} ${span}; nothing was signed`,
      );
    }
    let refunded = false;
    return {
      refund: async () => {
        if (refunded) return;
        refunded = true;
        await this.refundScript(key, evWei, face);
      },
    };
  }

  private script(name: string, lua: string): Script {
    const client = this.redis as unknown as Record<string, Script | undefined>;
    if (typeof client[name] !== 'function') this.redis.defineCommand(name, { numberOfKeys: 1, lua });
    return (client[name] as Script).bind(this.redis);
  }
}
