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

// The replay guard of one or more payments on the same params, applied in order as separate runs
// would be (a script runs atomically, so its payments are also atomic against every replica).
// KEYS[1] the params hash; KEYS[1 + p] the balance of payment p (KEYS[1] when none rides along).
// ARGV[1] the nonce cap; then per payment: the price it names ('' = any), '1' when its credit
// rides along, the balance it expects ('' = absent), the balance after the credit (set with TTL
// ARGV ms only if the balance still holds the one expected: Balances' compare-and-set; exact
// rationals on 256-bit numbers are beyond Lua's doubles, so the service computes it), the TTL,
// the number of nonces, the nonces. Returns -1 when the params are unknown, else one reply per
// payment: {-2, issued price} when the price is not the one the params were issued for (nothing
// recorded), else {credit, held, status per nonce} with status 0 recorded, 1 seen, 2 too many,
// and credit 1 = credited, 0 = the balance held `held` instead (nothing credited), 2 = not
// attempted (nothing rides along, or a nonce was refused).
const RECORD_LUA = `
local params = KEYS[1]
if redis.call('EXISTS', params) == 0 then return -1 end
local issued = redis.call('HGET', params, 'price') or ''
local count = redis.call('HLEN', params) - 1
local cap = tonumber(ARGV[1])
local replies = {}
local a = 2
for p = 2, #KEYS do
  local price, rides, expected, after, ttl = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local first = a + 6
  local last = first + tonumber(ARGV[a + 5]) - 1
  a = last + 1
  if price ~= '' and price ~= issued then
    replies[#replies + 1] = {-2, issued}
  else
    local out = {2, ''}
    local all = true
    for i = first, last do
      local status = 0
      if count < cap then
        if redis.call('HSETNX', params, ARGV[i], 1) == 1 then count = count + 1 else status = 1 end
      elseif redis.call('HEXISTS', params, ARGV[i]) == 1 then
        status = 1
      else
        status = 2
      end
      if status ~= 0 then all = false end
      out[#out + 1] = status
    end
    if rides == '1' and all then
      local held = redis.call('GET', KEYS[p]) or ''
      if held == expected then
        redis.call('SET', KEYS[p], after, 'PX', ttl)
        out[1] = 1
      else
        out[1] = 0
        out[2] = held
      end
    end
    replies[#replies + 1] = out
  end
end
return replies
`;

const OUTCOMES = [NonceOutcome.RECORDED, NonceOutcome.ALREADY_SEEN, NonceOutcome.TOO_MANY] as const;

/** One payment's reply: its price refused, or {credit, held, statuses...}. */
type PaymentReply = [-2, string] | [number, string, ...number[]];

type LedgerRedis = Redis & {
  recipientRecordPayments(numberOfKeys: number, ...args: (string | number)[]): Promise<-1 | PaymentReply[]>;
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

/** One payment's nonces offered to the script: the price it names ('' = any) and its credit. */
export interface NonceOffer {
  price: string;
  nonces: readonly number[];
  credit: RideAlong;
}

/** What a payment's offer came to: its nonces' outcomes, or the error that refused it whole. */
export type OfferResult = { outcomes: NonceOutcome[] } | { error: RecipientError };

/** The params of one sender that payments of a ProcessPayments call name (`RedisNonceLedger.share`). */
export interface ParamsOfSender {
  senderHex: string;
  recipientRandHashHex: string;
}

/**
 * The replay guard shared by every replica (PROTOCOL.md §5.4 step 5): a Lua script checks and
 * adds a batch's nonces in one atomic step, so of two replicas given the same ticket at once
 * exactly one records it. Capped per params (RECIPIENT_MAX_SENDER_NONCES). Entries are created
 * when the params are issued (`register`), not on first use: nonces of params this recipient
 * does not know are refused with PARAMS_UNKNOWN. Keys name the sender, so the NonceLedger port is
 * implemented per payment (`forPayment`); the payments of one ProcessPayments call on the same
 * params share one script run (`share`).
 */
@Injectable()
export class RedisNonceLedger {
  private readonly redis: LedgerRedis;
  private readonly cap: number;
  private readonly ttlMs: number;

  constructor(@InjectRecipientRedis() redis: Redis, config: RecipientConfig) {
    if (!('recipientRecordPayments' in redis)) {
      // The number of keys comes first in each call: the params plus one balance per payment.
      redis.defineCommand('recipientRecordPayments', { lua: RECORD_LUA });
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
   * check, the replay guard and the balance. With a `slot` (`share`) the round trip is shared.
   */
  forPayment(senderHex: string, price: Rational, credit: RideAlong, slot?: NonceSlot): NonceLedger {
    return new PaymentNonces(this, senderHex, priceField(price), credit, slot);
  }

  /**
   * Slots for the payments of one ProcessPayments call, by the params each names (undefined: it
   * records alone). Payments naming the same params of the same sender offer their nonces to one
   * shared script run, sent once each of them has offered or dropped out; a payment alone on its
   * params gets no slot.
   */
  share(payments: readonly (ParamsOfSender | undefined)[]): (NonceSlot | undefined)[] {
    const groups = new Map<string, { params: ParamsOfSender; members: number[] }>();
    payments.forEach((params, i) => {
      if (!params) return;
      const id = paramsKey(params.senderHex, params.recipientRandHashHex);
      const group = groups.get(id);
      if (group) group.members.push(i);
      else groups.set(id, { params, members: [i] });
    });
    const slots = new Array<NonceSlot | undefined>(payments.length);
    for (const { params, members } of groups.values()) {
      if (members.length < 2) continue;
      const shared = new SharedRecording(this, params, members.length);
      members.forEach((payment, member) => (slots[payment] = new NonceSlot(shared, member)));
    }
    return slots;
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
    const [result] = await this.recordAll({ senderHex, recipientRandHashHex }, [{ price, nonces, credit }]);
    if ('error' in result) throw result.error;
    return result.outcomes;
  }

  /**
   * Records the offers of several payments on the same params in one script run, in order: each
   * gets exactly what `recordAt` of it alone, in that order, would have given it (a nonce named
   * twice is recorded for the first offer and seen for the later one). Each offer's credit
   * rider, if any, is settled. A Redis failure rejects the whole call.
   */
  async recordAll(params: ParamsOfSender, offers: readonly NonceOffer[]): Promise<OfferResult[]> {
    let replies: -1 | PaymentReply[];
    try {
      replies = await this.run(paramsKey(params.senderHex, params.recipientRandHashHex), offers, true);
    } catch (err) {
      for (const offer of offers) offer.credit.settled = { kind: 'error', error: err };
      throw err;
    }
    if (replies === -1) {
      // Params issued before the sender's hash tag, or unknown: nothing rides along there.
      for (const offer of offers) offer.credit.settled = { kind: 'not-tried' };
      replies = await this.run(legacyParamsKey(params.recipientRandHashHex), offers, false);
      if (replies === -1) return offers.map(() => ({ error: paramsUnknown() }));
    }
    return replies.map((reply, i): OfferResult => {
      const { price, credit } = offers[i];
      if (reply[0] === -2) {
        credit.settled = { kind: 'not-tried' };
        return { error: priceMismatch(price, reply[1]) };
      }
      const [status, held, ...statuses] = reply as [number, string, ...number[]];
      // Always 2 (not tried) on legacy params: nothing rode along.
      credit.settled =
        status === 1 ? { kind: 'credited' } : status === 0 ? { kind: 'stale', held } : { kind: 'not-tried' };
      return { outcomes: statuses.map((s) => OUTCOMES[s]) };
    });
  }

  /** One run of the script over `params` (credits ride along only when `credits`). */
  private run(params: string, offers: readonly NonceOffer[], credits: boolean): Promise<-1 | PaymentReply[]> {
    const keys: string[] = [params];
    const args: (string | number)[] = [this.cap];
    for (const { price, nonces, credit } of offers) {
      const rider = credits ? credit.rider : undefined;
      keys.push(rider?.balanceKey ?? params);
      args.push(price, rider ? '1' : '0', rider?.expected ?? '', rider?.next ?? '', rider?.ttlMs ?? 0);
      args.push(nonces.length, ...nonces);
    }
    return this.redis.recipientRecordPayments(keys.length, ...keys, ...args);
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

/**
 * The payments of one ProcessPayments call on the same params: their offers wait until every
 * member has offered or dropped out, then go to Redis in one `recordAll`, in batch order, so the
 * first of two payments naming the same nonce is the one that records it, as in separate calls.
 */
class SharedRecording {
  private readonly offers: ({ offer: NonceOffer; settle: Settle } | undefined)[];
  private open: number;

  constructor(
    private readonly ledger: RedisNonceLedger,
    private readonly params: ParamsOfSender,
    members: number,
  ) {
    this.offers = new Array<{ offer: NonceOffer; settle: Settle } | undefined>(members);
    this.open = members;
  }

  covers(senderHex: string, recipientRandHashHex: string): boolean {
    return this.params.senderHex === senderHex && this.params.recipientRandHashHex === recipientRandHashHex;
  }

  offer(member: number, offer: NonceOffer): Promise<NonceOutcome[]> {
    return new Promise<NonceOutcome[]>((resolve, reject) => {
      this.offers[member] = { offer, settle: { resolve, reject } };
      this.close();
    });
  }

  /** A member that will not offer (refused before its nonces, or none to record). */
  drop(): void {
    this.close();
  }

  private close(): void {
    if (--this.open > 0) return;
    const waiting = this.offers.filter((o): o is NonNullable<typeof o> => o !== undefined);
    if (waiting.length === 0) return;
    this.ledger
      .recordAll(
        this.params,
        waiting.map((o) => o.offer),
      )
      .then(
        (results) =>
          results.forEach((result, i) => {
            const { resolve, reject } = waiting[i].settle;
            if ('error' in result) reject(result.error);
            else resolve(result.outcomes);
          }),
        (err: unknown) => waiting.forEach((o) => o.settle.reject(err)),
      );
  }
}

interface Settle {
  resolve: (outcomes: NonceOutcome[]) => void;
  reject: (err: unknown) => void;
}

/**
 * One payment's place in a `SharedRecording`: it either offers its nonces once or leaves
 * (`leave`, called whatever happened: a no-op once it offered). Until then the others wait.
 */
export class NonceSlot {
  private used = false;

  constructor(
    private readonly shared: SharedRecording,
    private readonly member: number,
  ) {}

  /** The shared run's answer for these nonces; undefined when this slot cannot take them (record alone). */
  offer(
    senderHex: string,
    recipientRandHashHex: string,
    offer: NonceOffer,
  ): Promise<NonceOutcome[]> | undefined {
    if (this.used || !this.shared.covers(senderHex, recipientRandHashHex)) return undefined;
    this.used = true;
    if (offer.nonces.length === 0) {
      this.shared.drop();
      return Promise.resolve([]);
    }
    return this.shared.offer(this.member, offer);
  }

  /** The payment is done with the nonce ledger (or never reached it): the others need not wait for it. */
  leave(): void {
    if (this.used) return;
    this.used = true;
    this.shared.drop();
  }
}

/** The Redis ledger seen through one payment (`RedisNonceLedger.forPayment`). */
class PaymentNonces extends NonceLedger {
  constructor(
    private readonly ledger: RedisNonceLedger,
    private readonly senderHex: string,
    private readonly price: string,
    private readonly credit: RideAlong,
    private readonly slot?: NonceSlot,
  ) {
    super();
  }

  record(key: string, _expirationBlock: bigint, nonces: readonly number[]): Promise<NonceOutcome[]> {
    const offer = { price: this.price, nonces, credit: this.credit };
    const shared = this.slot?.offer(this.senderHex, key, offer);
    if (shared) return shared;
    // Alone: the others of its slot (if any) need not wait for this payment.
    this.slot?.leave();
    return this.ledger.recordAt(this.senderHex, key, this.price, nonces, this.credit);
  }

  /** Entries expire by their Redis TTL; nothing to sweep. */
  expire(): number {
    return 0;
  }
}
