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

// The nonce loop shared by both scripts, a Lua function: params hash `key`, nonce cap `cap`, the
// price the payment names ('' = any), its nonces ARGV[first..last]. Returns -1 when the params are
// unknown, {-2, issued price} when the price is not the one they were issued for (nothing
// recorded), else one status per nonce (0 recorded, 1 seen, 2 too many) and whether every one was
// recorded.
const RECORD_FUNCTION = `
local function record(key, cap, price, first, last)
  if redis.call('EXISTS', key) == 0 then return -1 end
  if price ~= '' then
    local issued = redis.call('HGET', key, 'price')
    if issued ~= price then return {-2, issued or ''} end
  end
  local count = redis.call('HLEN', key) - 1
  local out = {}
  local all = true
  for i = first, last do
    local nonce = ARGV[i]
    if redis.call('HEXISTS', key, nonce) == 1 then
      out[#out + 1] = 1
      all = false
    elseif count >= cap then
      out[#out + 1] = 2
      all = false
    else
      redis.call('HSET', key, nonce, 1)
      count = count + 1
      out[#out + 1] = 0
    end
  end
  return out, all
end
`;

// Legacy params (one key): KEYS[1], ARGV[1] the cap, ARGV[2] the price, nonces from ARGV[3].
// Returns what \`record\` does, without the flag.
const RECORD_NONCES_LUA = `${RECORD_FUNCTION}
local out = record(KEYS[1], tonumber(ARGV[1]), ARGV[2], 3, #ARGV)
return out
`;

// Several payments of one sender, in order, as if each ran alone (their keys share the sender's
// hash tag, hence one Redis Cluster slot). KEYS: per payment its params hash, then its balance (the
// params hash again when no credit rides along). ARGV[1] the nonce cap, then per payment: the price
// ('' = any), '1' when its credit rides along, the balance it must still hold ('' = absent), the
// balance after the credit, the balance TTL ms, the number of nonces, the nonces. The credit is
// the Balances compare-and-set, applied only when every nonce was recorded; the new value is
// computed by the service (exact rationals on 256-bit numbers are beyond Lua's doubles).
// Returns one reply per payment: -1 / {-2, issued} as \`record\`, else {credit, held, statuses...}:
// credit 1 = credited, 0 = the balance held \`held\` instead (nothing credited), 2 = not attempted.
const RECORD_PAYMENTS_LUA = `${RECORD_FUNCTION}
local cap = tonumber(ARGV[1])
local replies = {}
local a = 2
for p = 1, #KEYS / 2 do
  local first = a + 6
  local last = first + tonumber(ARGV[a + 5]) - 1
  local out, all = record(KEYS[2 * p - 1], cap, ARGV[a], first, last)
  if type(out) == 'table' and out[1] ~= -2 then
    local credit = 2
    local held = ''
    if ARGV[a + 1] == '1' and all then
      held = redis.call('GET', KEYS[2 * p]) or ''
      if held == ARGV[a + 2] then
        redis.call('SET', KEYS[2 * p], ARGV[a + 3], 'PX', ARGV[a + 4])
        credit = 1
      else
        credit = 0
      end
    end
    table.insert(out, 1, held)
    table.insert(out, 1, credit)
  end
  replies[p] = out
  a = last + 1
end
return replies
`;

/**
 * Nonces one script call carries at most: payments of one sender waiting together are split past
 * this, so no single call holds Redis for long.
 */
const MAX_NONCES_PER_CALL = 2_048;

const OUTCOMES = [NonceOutcome.RECORDED, NonceOutcome.ALREADY_SEEN, NonceOutcome.TOO_MANY] as const;

type PriceRefusal = [-2, string];

/** One payment's reply from RECORD_PAYMENTS_LUA. */
type PaymentReply = -1 | PriceRefusal | [number, string, ...number[]];

/** A payment's nonces waiting for the next script call of its sender. */
interface PendingRecord {
  recipientRandHashHex: string;
  price: string;
  nonces: readonly number[];
  credit: RideAlong;
  resolve(reply: PaymentReply): void;
  reject(err: unknown): void;
}

type LedgerRedis = Redis & {
  recipientRecordNonces(
    key: string,
    cap: number,
    price: string,
    ...nonces: number[]
  ): Promise<-1 | PriceRefusal | number[]>;
  /** `numberOfKeys` first: two keys per payment. */
  recipientRecordPayments(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<PaymentReply[]>;
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
 * implemented per payment (`forPayment`). The payments of one sender that reach the ledger in the
 * same event-loop turn are recorded by one script call, each with the outcome it would have had
 * alone (they run in arrival order inside the script).
 */
@Injectable()
export class RedisNonceLedger {
  private readonly redis: LedgerRedis;
  private readonly cap: number;
  private readonly ttlMs: number;
  /** Payments waiting for this turn's script call, per sender (one call per sender: one slot). */
  private readonly pending = new Map<string, PendingRecord[]>();
  private flushing = false;

  constructor(@InjectRecipientRedis() redis: Redis, config: RecipientConfig) {
    if (!('recipientRecordNonces' in redis)) {
      redis.defineCommand('recipientRecordNonces', { numberOfKeys: 1, lua: RECORD_NONCES_LUA });
    }
    if (!('recipientRecordPayments' in redis)) {
      redis.defineCommand('recipientRecordPayments', { lua: RECORD_PAYMENTS_LUA });
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

  /**
   * Records `nonces` of the params `recipientRandHashHex` of `senderHex` at `price` ('' = any).
   * Payments of one sender recorded in the same event-loop turn (a ProcessPayments call, or
   * concurrent calls) share one script call: one round trip and one script run instead of one each.
   */
  async recordAt(
    senderHex: string,
    recipientRandHashHex: string,
    price: string,
    nonces: readonly number[],
    credit: RideAlong = {},
  ): Promise<NonceOutcome[]> {
    if (nonces.length === 0) return [];
    let reply: PaymentReply;
    try {
      reply = await new Promise<PaymentReply>((resolve, reject) =>
        this.enqueue(senderHex, { recipientRandHashHex, price, nonces, credit, resolve, reject }),
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

  private enqueue(senderHex: string, record: PendingRecord): void {
    const waiting = this.pending.get(senderHex);
    if (waiting) waiting.push(record);
    else this.pending.set(senderHex, [record]);
    if (this.flushing) return;
    this.flushing = true;
    // After this turn's I/O callbacks: the other payments of a ProcessPayments call get here first.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushing = false;
    for (const [sender, records] of this.pending) {
      let start = 0;
      while (start < records.length) {
        let end = start + 1;
        let count = records[start].nonces.length;
        while (end < records.length && count + records[end].nonces.length <= MAX_NONCES_PER_CALL) {
          count += records[end].nonces.length;
          end++;
        }
        void this.send(sender, records.slice(start, end));
        start = end;
      }
    }
    this.pending.clear();
  }

  /** One script call for `records` of `senderHex`, each answered with its own reply. */
  private async send(senderHex: string, records: readonly PendingRecord[]): Promise<void> {
    const keys: string[] = [];
    const args: (string | number)[] = [this.cap];
    for (const { recipientRandHashHex, price, nonces, credit } of records) {
      const key = paramsKey(senderHex, recipientRandHashHex);
      const rider = credit.rider;
      keys.push(key, rider?.balanceKey ?? key);
      args.push(
        price,
        rider ? '1' : '0',
        rider?.expected ?? '',
        rider?.next ?? '',
        rider?.ttlMs ?? 0,
        nonces.length,
        ...nonces,
      );
    }
    try {
      const replies = await this.redis.recipientRecordPayments(keys.length, ...keys, ...args);
      records.forEach((r, i) => r.resolve(replies[i]));
    } catch (err) {
      for (const r of records) r.reject(err);
    }
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
