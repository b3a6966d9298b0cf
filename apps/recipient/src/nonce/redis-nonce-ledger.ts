import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { NonceLedger, NonceOutcome, type Rational } from '#app/ticket';
import { PENDING_CREDIT_FUNCTION } from '../balance/balances.service.js';
import { InjectRecipientRedis, RECORD_PAYMENTS_COMMAND } from '../recipient-redis.js';
import { RecipientConfig } from '../recipient.config.js';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';

/**
 * One Redis hash per set of issued params: field `price` holds the price the params were issued
 * for, field `secretId` the id of the recipient secret that derived their recipientRand (the id
 * only, never the secret; absent from params issued before it was stored), every other field is a
 * seen nonce. Params and their nonces live and die together (one key, one TTL, evicted as a unit),
 * so losing the nonce set (TTL, eviction, a Redis without persistence) can only make the params
 * unknown, which is refused, never let a replay through.
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
/** The id (`SecretVersion.id`) of the secret that issued the params: which secret validates them. */
const SECRET_ID_FIELD = 'secretId';

/** The reduced price as stored: `num/den`. */
export function priceField(price: Rational): string {
  return `${price.num}/${price.den}`;
}

// The nonce check shared by both scripts, a Lua function that writes nothing: params hash `key`,
// nonce cap `cap`, the price the payment names ('' = any), its nonces ARGV[first..last]. Returns
// -1 when the params are unknown, {-2, issued price} when the price is not the one they were issued
// for, else one status per nonce as recording them in order would give (0 new, 1 seen, 2 too
// many; a nonce twice in one payment is seen the second time), how many are new, and the params'
// entry in \`known\`. Nonces are looked up CHUNK at a time (one HMGET, not one HEXISTS each: a
// payment's cost in Redis is then mostly its arguments), a bound that keeps each unpack within
// Lua's stack. A params hash always holds its price (issued with it), so the price's absence is
// the params' absence; its nonces are its fields but the price and, when there, the secret id
// (read with the price, one call). \`known\` keeps each params hash's price and nonce count for the
// rest of the script: a call's payments mostly share their params, and a redis.call costs more
// than the Lua around it. The caller adds the nonces it records to the entry's count.
const CHECK_FUNCTION = `
local CHUNK = 1000
local known = {}
local function check(key, cap, price, first, last)
  local params = known[key]
  if params == nil then
    local meta = redis.call('HMGET', key, 'price', 'secretId')
    local issued = meta[1]
    params = issued and {issued = issued, count = redis.call('HLEN', key) - (meta[2] and 2 or 1)} or false
    known[key] = params
  end
  if not params then return -1 end
  if price ~= '' and params.issued ~= price then return {-2, params.issued} end
  local count = params.count
  local out = {}
  local fresh = {}
  local new = 0
  for from = first, last, CHUNK do
    local to = math.min(from + CHUNK - 1, last)
    local seen = redis.call('HMGET', key, unpack(ARGV, from, to))
    for i = from, to do
      local nonce = ARGV[i]
      if fresh[nonce] or seen[i - from + 1] then
        out[#out + 1] = 1
      elseif count >= cap then
        out[#out + 1] = 2
      else
        fresh[nonce] = true
        count = count + 1
        new = new + 1
        out[#out + 1] = 0
      end
    end
  end
  return out, new, params
end
`;

// What recording a payment would do, recording nothing: KEYS[1] the params, ARGV[1] the cap,
// ARGV[2] the price, nonces from ARGV[3]. Returns what \`check\` does, without the count.
const PEEK_NONCES_LUA = `${CHECK_FUNCTION}
local out = check(KEYS[1], tonumber(ARGV[1]), ARGV[2], 3, #ARGV)
return out
`;

// Several payments of one sender, in order, as if each ran alone (their keys share the sender's
// hash tag, hence one Redis Cluster slot). KEYS: each key the payments name, once (payments of one
// sender mostly share their params and balance: listing a key per payment made the call's keys
// most of its bytes). ARGV[1] the nonce cap, then per payment: the indexes in KEYS of its params
// hash, its balance and its balance's pending credit (the params hash's index thrice when no credit
// rides along), the price ('' = any), '1' when its credit rides along, the balance it must still hold,
// the balance after the credit, the balance TTL ms, the EV of one ticket, the number of nonces, the
// nonces. Its new nonces are recorded and, in the same step, credited: by setting the balance (the
// Balances compare-and-set; the new value is computed by the service, as exact rationals on
// 256-bit numbers are beyond Lua's doubles) when every nonce is new and the balance holds the
// value expected, else by adding them to the pending credit (which the service then moves into
// the balance). The credit is written before the nonces: a command that fails (a key of the wrong
// type) ends the script before anything is recorded, as a script's writes before an error stay.
// Returns one reply per payment: -1 / {-2, issued} as \`check\`, else {credit, pending, found,
// statuses...}: credit 1 = the balance set, 0 = credit pending, 2 = nothing to credit; \`pending\`
// the pending credit the balance is owed now (PENDING_CREDIT_FUNCTION), also when the balance was
// set (one left earlier: a crash, another replica); \`found\` the value the balance held when it was
// read and was not the one expected ('' = absent), else false (nil).
const RECORD_PAYMENTS_LUA = `${CHECK_FUNCTION}${PENDING_CREDIT_FUNCTION}
local cap = tonumber(ARGV[1])
local replies = {}
local a = 2
while a <= #ARGV do
  local key = KEYS[tonumber(ARGV[a])]
  local balance = KEYS[tonumber(ARGV[a + 1])]
  local owed = KEYS[tonumber(ARGV[a + 2])]
  a = a + 3
  local first = a + 7
  local last = first + tonumber(ARGV[a + 6]) - 1
  local out, new, params = check(key, cap, ARGV[a], first, last)
  if type(out) == 'table' and out[1] ~= -2 then
    params.count = params.count + new
    local credit = 2
    local pending = ''
    local found = false
    if ARGV[a + 1] == '1' and new > 0 then
      if new > last - first then found = redis.call('GET', balance) or '' end
      if found == ARGV[a + 2] then
        redis.call('SET', balance, ARGV[a + 3], 'PX', ARGV[a + 4])
        found = false
        credit = 1
      else
        redis.call('HINCRBY', owed, ARGV[a + 5], new)
        redis.call('PEXPIRE', owed, ARGV[a + 4])
        credit = 0
      end
      pending = pendingOf(owed)
    end
    local fields = {}
    for i = first, last do
      if out[i - first + 1] == 0 then
        fields[#fields + 1] = ARGV[i]
        fields[#fields + 1] = 1
      end
    end
    for from = 1, #fields, 2 * CHUNK do
      redis.call('HSET', key, unpack(fields, from, math.min(from + 2 * CHUNK - 1, #fields)))
    end
    table.insert(out, 1, found)
    table.insert(out, 1, pending)
    table.insert(out, 1, credit)
  end
  replies[#replies + 1] = out
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

/** One payment's reply from RECORD_PAYMENTS_LUA (`found` null: Lua's false). */
type PaymentReply = -1 | PriceRefusal | [number, string, string | null, ...number[]];

/** The `credit` of a PaymentReply (see RECORD_PAYMENTS_LUA). */
const PENDING = 0;
const CREDITED = 1;

/** A payment's nonces waiting for the next script call of its sender. */
interface PendingRecord {
  recipientRandHashHex: string;
  price: string;
  nonces: readonly number[];
  rider?: CreditRider;
  resolve(reply: PaymentReply): void;
  reject(err: unknown): void;
}

type LedgerRedis = Redis & {
  recipientPeekNonces(
    key: string,
    cap: number,
    price: string,
    ...nonces: number[]
  ): Promise<-1 | PriceRefusal | number[]>;
  /** `numberOfKeys` first: the keys the payments index (each once, but for the legacy call). */
  recipientRecordPayments(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<PaymentReply[]>;
};

/**
 * A payment's credit that rides along with its nonces (`Balances.rider`): applied by the same
 * script, to the balance as a compare-and-set against `expected`, else to its pending credit.
 */
export interface CreditRider {
  balanceKey: string;
  pendingKey: string;
  /** The value the balance must still hold to be set ('' = absent). */
  expected: string;
  /** The balance after the credit. */
  next: string;
  /** The EV of one ticket (`num/den`): the pending credit counts tickets per EV. */
  ev: string;
  ttlMs: number;
}

/**
 * What became of a rider: the balance set, the credit added to the pending credit, nothing to
 * credit (or nothing recorded), or unknown (the call failed). `pending`: the pending credit the
 * balance is owed after the script (PENDING_CREDIT_FUNCTION; '' = none), which may be one left
 * earlier when the balance was set. `found`: the value the balance held instead of the one
 * expected ('' = absent), or null when the script did not read it (a nonce seen).
 */
export type RiderOutcome =
  | { kind: 'credited'; pending: string }
  | { kind: 'pending'; pending: string; found: string | null }
  | { kind: 'none' }
  | { kind: 'error' };

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
 *
 * A payment's credit rides in the script that records its nonces (`CreditRider`): both happen or
 * neither, so a crash at any point leaves either the whole payment applied or nothing (its retry
 * then goes through).
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
    if (!('recipientPeekNonces' in redis)) {
      redis.defineCommand('recipientPeekNonces', { numberOfKeys: 1, lua: PEEK_NONCES_LUA });
    }
    if (!(RECORD_PAYMENTS_COMMAND in redis)) {
      redis.defineCommand(RECORD_PAYMENTS_COMMAND, { lua: RECORD_PAYMENTS_LUA });
    }
    this.redis = redis as LedgerRedis;
    this.cap = config.values.RECIPIENT_MAX_SENDER_NONCES;
    this.ttlMs = config.values.RECIPIENT_PARAMS_TTL_SECONDS * 1000;
  }

  /**
   * Records params freshly issued to `senderHex`, the price they were issued for and the id of the
   * secret that derived their recipientRand (`secretId`), which is what later picks the secret
   * that validates them on every replica, whatever each one holds as current by then.
   */
  async register(
    senderHex: string,
    recipientRandHashHex: string,
    price: Rational,
    secretId: string,
  ): Promise<void> {
    const key = paramsKey(senderHex, recipientRandHashHex);
    await this.redis
      .multi()
      .hset(key, PRICE_FIELD, priceField(price), SECRET_ID_FIELD, secretId)
      .pexpire(key, this.ttlMs)
      .exec();
  }

  /**
   * The id of the secret that issued the params, as registered; undefined when their record holds
   * none (issued before ids were stored, kept under the legacy key, or unknown params). One read,
   * made only when the params failed the commitment check with the secret tried first.
   */
  async issuerOf(senderHex: string, recipientRandHashHex: string): Promise<string | undefined> {
    return (await this.redis.hget(paramsKey(senderHex, recipientRandHashHex), SECRET_ID_FIELD)) ?? undefined;
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
   * What recording `nonces` at `price` would give now, recording nothing: PARAMS_UNKNOWN or
   * PRICE_MISMATCH thrown as `recordAt` would, else one outcome per nonce. A payment's winners are
   * checked with it before they are stored, so that a refused one is not.
   */
  async peek(
    senderHex: string,
    recipientRandHashHex: string,
    price: string,
    nonces: readonly number[],
  ): Promise<NonceOutcome[]> {
    let reply = await this.redis.recipientPeekNonces(
      paramsKey(senderHex, recipientRandHashHex),
      this.cap,
      price,
      ...nonces,
    );
    if (reply === -1) {
      reply = await this.redis.recipientPeekNonces(
        legacyParamsKey(recipientRandHashHex),
        this.cap,
        price,
        ...nonces,
      );
    }
    if (reply === -1) throw paramsUnknown();
    if (reply[0] === -2) throw priceMismatch(price, (reply as PriceRefusal)[1]);
    return (reply as number[]).map((status) => OUTCOMES[status]);
  }

  /**
   * The ledger of one payment of `senderHex` at `price`: its nonces are recorded only if the
   * params were issued for that price (PRICE_MISMATCH otherwise, nothing recorded), checked in the
   * same script, with the credit of `ride.rider` (set by then, or not): one round trip for the
   * price check, the replay guard and the credit.
   */
  forPayment(senderHex: string, price: Rational, ride: RideAlong): NonceLedger {
    return new PaymentNonces(this, senderHex, priceField(price), ride);
  }

  /**
   * Records `nonces` of the params `recipientRandHashHex` of `senderHex` at `price` ('' = any),
   * crediting those recorded in the same step when `ride.rider` is set (what became of it in
   * `ride.settled`). Payments of one sender recorded in the same event-loop turn (a
   * ProcessPayments call, or concurrent calls) share one script call: one round trip and one
   * script run instead of one each.
   */
  async recordAt(
    senderHex: string,
    recipientRandHashHex: string,
    price: string,
    nonces: readonly number[],
    ride: RideAlong = {},
  ): Promise<NonceOutcome[]> {
    if (nonces.length === 0) return [];
    const record = { recipientRandHashHex, price, nonces, rider: ride.rider };
    let reply: PaymentReply;
    try {
      reply = await this.enqueue(senderHex, record);
      // Params issued before the sender's hash tag: recorded under their old key.
      if (reply === -1) reply = await this.sendLegacy(record);
    } catch (err) {
      ride.settled = { kind: 'error' };
      throw err;
    }
    if (reply === -1 || reply[0] === -2) {
      ride.settled = { kind: 'none' };
      throw reply === -1 ? paramsUnknown() : priceMismatch(price, (reply as PriceRefusal)[1]);
    }
    const [status, pending, found, ...statuses] = reply as [number, string, string | null, ...number[]];
    ride.settled =
      status === CREDITED
        ? { kind: 'credited', pending }
        : status === PENDING
          ? { kind: 'pending', pending, found }
          : { kind: 'none' };
    return statuses.map((s) => OUTCOMES[s]);
  }

  private enqueue(
    senderHex: string,
    record: Omit<PendingRecord, 'resolve' | 'reject'>,
  ): Promise<PaymentReply> {
    return new Promise<PaymentReply>((resolve, reject) => {
      const waiting = this.pending.get(senderHex);
      if (waiting) waiting.push({ ...record, resolve, reject });
      else this.pending.set(senderHex, [{ ...record, resolve, reject }]);
      if (this.flushing) return;
      this.flushing = true;
      // After this turn's I/O callbacks: the other payments of a ProcessPayments call, and concurrent
      // calls, get here first. The call is then written at once (RECORD_PAYMENTS_COMMAND bypasses
      // auto-pipelining, whose own setImmediate would hold it until the next loop iteration).
      setImmediate(() => this.flush());
    });
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
    const indexes = new Map<string, number>();
    /** The key's index in KEYS (from 1), adding it on first use. */
    const keyIndex = (key: string): number => {
      let index = indexes.get(key);
      if (index === undefined) {
        index = keys.push(key);
        indexes.set(key, index);
      }
      return index;
    };
    const args: (string | number)[] = [this.cap];
    // A call's payments mostly share their params: their key is built (and hashed) once.
    let hashHex: string | undefined;
    let key = '';
    for (const record of records) {
      if (record.recipientRandHashHex !== hashHex) {
        hashHex = record.recipientRandHashHex;
        key = paramsKey(senderHex, hashHex);
      }
      args.push(
        keyIndex(key),
        keyIndex(record.rider?.balanceKey ?? key),
        keyIndex(record.rider?.pendingKey ?? key),
      );
      pushScriptArgs(args, record);
    }
    try {
      const replies = await this.redis.recipientRecordPayments(keys.length, ...keys, ...args);
      records.forEach((r, i) => r.resolve(replies[i]));
    } catch (err) {
      for (const r of records) r.reject(err);
    }
  }

  /**
   * A payment on params kept under their legacy key, alone. Its params and balance keys are in
   * different Redis Cluster slots: on a Cluster the script is refused (CROSSSLOT) and the payment
   * with it, nothing recorded; the sender fetches new params.
   */
  private async sendLegacy(record: Omit<PendingRecord, 'resolve' | 'reject'>): Promise<PaymentReply> {
    const key = legacyParamsKey(record.recipientRandHashHex);
    const balance = record.rider?.balanceKey ?? key;
    const owed = record.rider?.pendingKey ?? key;
    const args: (string | number)[] = [this.cap, 1, 2, 3];
    pushScriptArgs(args, record);
    const [reply] = await this.redis.recipientRecordPayments(3, key, balance, owed, ...args);
    return reply;
  }
}

/** Appends a payment's arguments to RECORD_PAYMENTS_LUA (after its three key indexes) to `args`. */
function pushScriptArgs(
  args: (string | number)[],
  { price, nonces, rider }: Omit<PendingRecord, 'resolve' | 'reject'>,
): void {
  args.push(
    price,
    rider ? '1' : '0',
    rider?.expected ?? '',
    rider?.next ?? '',
    rider?.ttlMs ?? 0,
    rider?.ev ?? '',
    nonces.length,
  );
  for (const nonce of nonces) args.push(nonce);
}

/** A payment's credit offered to its nonce script (set right before recording), and what became of it. */
export interface RideAlong {
  rider?: CreditRider;
  settled?: RiderOutcome;
}

/** The Redis ledger seen through one payment (`RedisNonceLedger.forPayment`). */
class PaymentNonces extends NonceLedger {
  constructor(
    private readonly ledger: RedisNonceLedger,
    private readonly senderHex: string,
    private readonly price: string,
    private readonly ride: RideAlong,
  ) {
    super();
  }

  record(key: string, _expirationBlock: bigint, nonces: readonly number[]): Promise<NonceOutcome[]> {
    return this.ledger.recordAt(this.senderHex, key, this.price, nonces, this.ride);
  }

  /** Entries expire by their Redis TTL; nothing to sweep. */
  expire(): number {
    return 0;
  }
}
