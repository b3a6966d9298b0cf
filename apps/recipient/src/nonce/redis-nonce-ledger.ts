import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { NonceLedger, NonceOutcome, type Rational } from '#app/ticket';
import { InjectRecipientRedis } from '../recipient-redis.js';
import { RecipientConfig } from '../recipient.config.js';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';

/**
 * One Redis hash per set of issued params: field `price` holds the price the params were issued
 * for, every other field is a seen nonce. Params and their nonces live and die together (one key,
 * one TTL, evicted as a unit), so losing the nonce set (TTL, eviction, a Redis without
 * persistence) can only make the params unknown, which is refused, never let a replay through.
 * The hash tag is the sender's, as for its balances and rate window: the keys one payment touches
 * share a Redis Cluster slot, so one script can record its nonces and credit it.
 */
export function paramsKey(senderHex: string, recipientRandHashHex: string): string {
  return `recipient:params:{${senderHex}}:${recipientRandHashHex}`;
}

/**
 * Where params were kept before the sender's hash tag (tagged by their own hash). Never written
 * any more; payments on params issued there (by an older replica, or before an upgrade) are still
 * recorded there until those params expire (RECIPIENT_PARAMS_TTL_SECONDS), so an upgrade refuses
 * no live params.
 */
export function legacyParamsKey(recipientRandHashHex: string): string {
  return `recipient:params:{${recipientRandHashHex}}`;
}

const PRICE_FIELD = 'price';

/** The reduced price as stored: `num/den`. */
export function priceField(price: Rational): string {
  return `${price.num}/${price.den}`;
}

// The nonce loop shared by both scripts: KEYS[1] the params hash, ARGV[1] the nonce cap, ARGV[2]
// the price the payment names ('' = any), nonces from ARGV[first]. Leaves `out` with one status
// per nonce (0 recorded, 1 seen, 2 too many) and `all` true when every one was recorded.
const RECORD_BODY = (first: number) => `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if ARGV[2] ~= '' then
  local issued = redis.call('HGET', KEYS[1], 'price')
  if issued ~= ARGV[2] then return {-2, issued or ''} end
end
local count = redis.call('HLEN', KEYS[1]) - 1
local cap = tonumber(ARGV[1])
local out = {}
local all = true
for i = ${first}, #ARGV do
  local nonce = ARGV[i]
  if redis.call('HEXISTS', KEYS[1], nonce) == 1 then
    out[#out + 1] = 1
    all = false
  elseif count >= cap then
    out[#out + 1] = 2
    all = false
  else
    redis.call('HSET', KEYS[1], nonce, 1)
    count = count + 1
    out[#out + 1] = 0
  end
end
`;

// Legacy params (one key). Returns -1 when the params are unknown, {-2, issued price} when the
// price is not the one they were issued for (nothing recorded), else one status per nonce.
const RECORD_NONCES_LUA = `${RECORD_BODY(3)}
return out
`;

// Params plus, when ARGV[3] is '1' and every nonce was recorded, the payment's credit: KEYS[2]
// the balance, set to ARGV[5] (TTL ARGV[6] ms) only if it still holds ARGV[4] ('' = absent), the
// Balances compare-and-set. The new value is computed by the service (exact rationals on 256-bit
// numbers are beyond Lua's doubles). Nonces from ARGV[7]. Returns -1 / {-2, issued} as above,
// else {credit, held, statuses...}: credit 1 = credited, 0 = the balance held `held` instead
// (nothing credited), 2 = not attempted.
const RECORD_AND_CREDIT_LUA = `${RECORD_BODY(7)}
local credit = 2
local held = ''
if ARGV[3] == '1' and all then
  held = redis.call('GET', KEYS[2]) or ''
  if held == ARGV[4] then
    redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[6])
    credit = 1
  else
    credit = 0
  end
end
table.insert(out, 1, held)
table.insert(out, 1, credit)
return out
`;

const OUTCOMES = [NonceOutcome.RECORDED, NonceOutcome.ALREADY_SEEN, NonceOutcome.TOO_MANY] as const;

type PriceRefusal = [-2, string];

type LedgerRedis = Redis & {
  recipientRecordNonces(
    key: string,
    cap: number,
    price: string,
    ...nonces: number[]
  ): Promise<-1 | PriceRefusal | number[]>;
  recipientRecordAndCredit(
    params: string,
    balance: string,
    cap: number,
    price: string,
    credit: '0' | '1',
    expected: string,
    next: string,
    ttlMs: number,
    ...nonces: number[]
  ): Promise<-1 | PriceRefusal | [number, string, ...number[]]>;
};

/**
 * A balance update that rides along with a payment's nonces (`Balances.rider`): applied by the
 * same script when every nonce was recorded, as a compare-and-set against `expected`.
 */
export interface CreditRider {
  balanceKey: string;
  /** The balance this process last saw ('' = absent). */
  expected: string;
  /** The balance after the credit. */
  next: string;
  ttlMs: number;
}

/** What became of a rider: credited, refused by the compare-and-set (the balance held `held`), or not tried. */
export type RiderOutcome = { kind: 'credited' } | { kind: 'stale'; held: string } | { kind: 'not-tried' };

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
 * does not know are refused with PARAMS_UNKNOWN. Keys name the sender, so the NonceLedger port is
 * implemented per payment (`forPayment`).
 */
@Injectable()
export class RedisNonceLedger {
  private readonly redis: LedgerRedis;
  private readonly cap: number;
  private readonly ttlMs: number;

  constructor(@InjectRecipientRedis() redis: Redis, config: RecipientConfig) {
    if (!('recipientRecordNonces' in redis)) {
      redis.defineCommand('recipientRecordNonces', { numberOfKeys: 1, lua: RECORD_NONCES_LUA });
    }
    if (!('recipientRecordAndCredit' in redis)) {
      redis.defineCommand('recipientRecordAndCredit', { numberOfKeys: 2, lua: RECORD_AND_CREDIT_LUA });
    }
    this.redis = redis as LedgerRedis;
    this.cap = config.values.RECIPIENT_MAX_SENDER_NONCES;
    this.ttlMs = config.values.RECIPIENT_PARAMS_TTL_SECONDS * 1000;
  }

  /** Records params freshly issued to `senderHex` and the price they were issued for. */
  async register(senderHex: string, recipientRandHashHex: string, price: Rational): Promise<void> {
    const key = paramsKey(senderHex, recipientRandHashHex);
    await this.redis.multi().hset(key, PRICE_FIELD, priceField(price)).pexpire(key, this.ttlMs).exec();
  }

  /** The price the params were issued for, or PARAMS_UNKNOWN. */
  async issuedPrice(senderHex: string, recipientRandHashHex: string): Promise<string> {
    const price =
      (await this.redis.hget(paramsKey(senderHex, recipientRandHashHex), PRICE_FIELD)) ??
      (await this.redis.hget(legacyParamsKey(recipientRandHashHex), PRICE_FIELD));
    if (price === null) throw paramsUnknown();
    return price;
  }

  /**
   * The ledger of one payment of `senderHex` at `price`: its nonces are recorded only if the
   * params were issued for that price (PRICE_MISMATCH otherwise, nothing recorded), checked in the
   * same script, and `credit` (set by then, or not) rides along: one round trip for the price
   * check, the replay guard and the balance.
   */
  forPayment(senderHex: string, price: Rational, credit: RideAlong): NonceLedger {
    return new PaymentNonces(this, senderHex, priceField(price), credit);
  }

  /** Records `nonces` of the params `recipientRandHashHex` of `senderHex` at `price` ('' = any). */
  async recordAt(
    senderHex: string,
    recipientRandHashHex: string,
    price: string,
    nonces: readonly number[],
    credit: RideAlong = {},
  ): Promise<NonceOutcome[]> {
    if (nonces.length === 0) return [];
    const rider = credit.rider;
    const key = paramsKey(senderHex, recipientRandHashHex);
    let reply: Awaited<ReturnType<LedgerRedis['recipientRecordAndCredit']>>;
    try {
      reply = await this.redis.recipientRecordAndCredit(
        key,
        rider?.balanceKey ?? key,
        this.cap,
        price,
        rider ? '1' : '0',
        rider?.expected ?? '',
        rider?.next ?? '',
        rider?.ttlMs ?? 0,
        ...nonces,
      );
    } catch (err) {
      credit.settled = { kind: 'error', error: err };
      throw err;
    }
    if (reply === -1) {
      credit.settled = { kind: 'not-tried' };
      return this.recordLegacy(recipientRandHashHex, price, nonces);
    }
    if (reply[0] === -2) {
      credit.settled = { kind: 'not-tried' };
      throw priceMismatch(price, (reply as PriceRefusal)[1]);
    }
    const [status, held, ...statuses] = reply as [number, string, ...number[]];
    credit.settled =
      status === 1 ? { kind: 'credited' } : status === 0 ? { kind: 'stale', held } : { kind: 'not-tried' };
    return statuses.map((s) => OUTCOMES[s]);
  }

  private async recordLegacy(
    recipientRandHashHex: string,
    price: string,
    nonces: readonly number[],
  ): Promise<NonceOutcome[]> {
    const key = legacyParamsKey(recipientRandHashHex);
    const reply = await this.redis.recipientRecordNonces(key, this.cap, price, ...nonces);
    if (!Array.isArray(reply)) throw paramsUnknown();
    if (reply[0] === -2) throw priceMismatch(price, (reply as PriceRefusal)[1]);
    return (reply as number[]).map((status) => OUTCOMES[status]);
  }

  /**
   * Un-records `nonces` this process just recorded for a payment it then failed to finish (its
   * winners could not be stored), so the same tickets can be sent again. HDEL never creates the
   * params entry, so forgetting cannot revive params that expired meanwhile.
   */
  async forget(senderHex: string, recipientRandHashHex: string, nonces: readonly number[]): Promise<void> {
    if (nonces.length === 0) return;
    const fields = nonces.map(String);
    await this.redis.hdel(paramsKey(senderHex, recipientRandHashHex), ...fields);
    await this.redis.hdel(legacyParamsKey(recipientRandHashHex), ...fields);
  }
}

/** A payment's credit offered to its nonce script, and what became of it. */
export interface RideAlong {
  rider?: CreditRider;
  settled?: RiderOutcome | { kind: 'error'; error: unknown };
}

/** The Redis ledger seen through one payment (`RedisNonceLedger.forPayment`). */
class PaymentNonces extends NonceLedger {
  constructor(
    private readonly ledger: RedisNonceLedger,
    private readonly senderHex: string,
    private readonly price: string,
    private readonly credit: RideAlong,
  ) {
    super();
  }

  record(key: string, _expirationBlock: bigint, nonces: readonly number[]): Promise<NonceOutcome[]> {
    return this.ledger.recordAt(this.senderHex, key, this.price, nonces, this.credit);
  }

  /** Entries expire by their Redis TTL; nothing to sweep. */
  expire(): number {
    return 0;
  }
}
