import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { NonceLedger, NonceOutcome, type Rational } from '#app/ticket';
import { InjectRecipientRedis } from '../recipient-redis.js';
import { RecipientConfig } from '../recipient.config.js';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';

/**
 * One Redis hash per set of issued params, keyed by recipientRandHash: field `price` holds the
 * price the params were issued for, every other field is a seen nonce. Params and their nonces
 * live and die together (one key, one TTL, evicted as a unit), so losing the nonce set (TTL,
 * eviction, a Redis without persistence) can only make the params unknown, which is refused,
 * never let a replay through.
 */
export function paramsKey(recipientRandHashHex: string): string {
  return `recipient:params:{${recipientRandHashHex}}`;
}

const PRICE_FIELD = 'price';

/** The reduced price as stored: `num/den`. */
export function priceField(price: Rational): string {
  return `${price.num}/${price.den}`;
}

// KEYS[1] params hash; ARGV[1] nonce cap; ARGV[2] the price the payment names ('' = any);
// ARGV[3..] nonces in order. Returns -1 when the params are unknown, {-2, issued price} when the
// price is not the one they were issued for (nothing recorded), else one status per nonce:
// 0 recorded, 1 seen, 2 too many.
const RECORD_NONCES_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if ARGV[2] ~= '' then
  local issued = redis.call('HGET', KEYS[1], 'price')
  if issued ~= ARGV[2] then return {-2, issued or ''} end
end
local count = redis.call('HLEN', KEYS[1]) - 1
local cap = tonumber(ARGV[1])
local out = {}
for i = 3, #ARGV do
  local nonce = ARGV[i]
  if redis.call('HEXISTS', KEYS[1], nonce) == 1 then
    out[#out + 1] = 1
  elseif count >= cap then
    out[#out + 1] = 2
  else
    redis.call('HSET', KEYS[1], nonce, 1)
    count = count + 1
    out[#out + 1] = 0
  end
end
return out
`;

const OUTCOMES = [NonceOutcome.RECORDED, NonceOutcome.ALREADY_SEEN, NonceOutcome.TOO_MANY] as const;

type LedgerRedis = Redis & {
  recipientRecordNonces(
    key: string,
    cap: number,
    price: string,
    ...nonces: number[]
  ): Promise<number | [-2, string] | number[]>;
};

export function paramsUnknown(): RecipientError {
  return new RecipientError(
    RecipientErrorCode.PARAMS_UNKNOWN,
    'ticket params were not issued by this recipient or are too old: fetch new params',
  );
}

export function priceMismatch(expected: string, issued: string): RecipientError {
  return new RecipientError(
    RecipientErrorCode.PRICE_MISMATCH,
    `expected price ${expected} is not the price ${issued} the ticket params were issued for`,
  );
}

/**
 * The replay guard shared by every replica (PROTOCOL.md §5.4 step 5): a Lua script checks and
 * adds a batch's nonces in one atomic step, so of two replicas given the same ticket at once
 * exactly one records it. Capped per params (RECIPIENT_MAX_SENDER_NONCES). Entries are created
 * when the params are issued (`register`), not on first use: nonces of params this recipient
 * does not know are refused with PARAMS_UNKNOWN.
 */
@Injectable()
export class RedisNonceLedger extends NonceLedger {
  private readonly redis: LedgerRedis;
  private readonly cap: number;
  private readonly ttlMs: number;

  constructor(@InjectRecipientRedis() redis: Redis, config: RecipientConfig) {
    super();
    if (!('recipientRecordNonces' in redis)) {
      redis.defineCommand('recipientRecordNonces', { numberOfKeys: 1, lua: RECORD_NONCES_LUA });
    }
    this.redis = redis as LedgerRedis;
    this.cap = config.values.RECIPIENT_MAX_SENDER_NONCES;
    this.ttlMs = config.values.RECIPIENT_PARAMS_TTL_SECONDS * 1000;
  }

  /** Records freshly issued params and the price they were issued for. */
  async register(recipientRandHashHex: string, price: Rational): Promise<void> {
    const key = paramsKey(recipientRandHashHex);
    await this.redis.multi().hset(key, PRICE_FIELD, priceField(price)).pexpire(key, this.ttlMs).exec();
  }

  /** The price the params were issued for, or PARAMS_UNKNOWN. */
  async issuedPrice(recipientRandHashHex: string): Promise<string> {
    const price = await this.redis.hget(paramsKey(recipientRandHashHex), PRICE_FIELD);
    if (price === null) throw paramsUnknown();
    return price;
  }

  /** Throws PARAMS_UNKNOWN when the params' entry is gone. */
  record(key: string, _expirationBlock: bigint, nonces: readonly number[]): Promise<NonceOutcome[]> {
    return this.recordAt(key, '', nonces);
  }

  /**
   * This ledger for one payment at `price`: its nonces are recorded only if the params were issued
   * for that price (PRICE_MISMATCH otherwise, nothing recorded), checked in the same script, so a
   * payment's price check and replay guard cost one round trip.
   */
  forPrice(price: Rational): NonceLedger {
    return new PricedNonces(this, priceField(price));
  }

  /** `record` for `price` ('' = any). */
  async recordAt(key: string, price: string, nonces: readonly number[]): Promise<NonceOutcome[]> {
    if (nonces.length === 0) return [];
    const reply = await this.redis.recipientRecordNonces(paramsKey(key), this.cap, price, ...nonces);
    if (!Array.isArray(reply)) throw paramsUnknown();
    if (reply[0] === -2) throw priceMismatch(price, (reply as [-2, string])[1]);
    return (reply as number[]).map((status) => OUTCOMES[status]);
  }

  /**
   * Un-records `nonces` this process just recorded for a payment it then failed to finish (its
   * winners could not be stored), so the same tickets can be sent again. HDEL never creates the
   * params entry, so forgetting cannot revive params that expired meanwhile.
   */
  async forget(key: string, nonces: readonly number[]): Promise<void> {
    if (nonces.length === 0) return;
    await this.redis.hdel(paramsKey(key), ...nonces.map(String));
  }

  /** Entries expire by their Redis TTL; nothing to sweep. */
  expire(): number {
    return 0;
  }
}

/** The Redis ledger seen through one payment's price (`RedisNonceLedger.forPrice`). */
class PricedNonces extends NonceLedger {
  constructor(
    private readonly ledger: RedisNonceLedger,
    private readonly price: string,
  ) {
    super();
  }

  record(key: string, _expirationBlock: bigint, nonces: readonly number[]): Promise<NonceOutcome[]> {
    return this.ledger.recordAt(key, this.price, nonces);
  }

  expire(): number {
    return 0;
  }
}
