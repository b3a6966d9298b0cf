import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Rational } from '#app/ticket';
import type { CreditRider, RiderOutcome } from '../nonce/redis-nonce-ledger.js';
import { InjectRecipientRedis } from '../recipient-redis.js';
import { RecipientConfig } from '../recipient.config.js';
import { invalidRequest, RecipientError, RecipientErrorCode } from '../recipient.error.js';

// KEYS[1] balance, KEYS[2] its legacy key (optional); ARGV[1] the value expected ('' when absent),
// ARGV[2] the new value, ARGV[3] TTL ms, ARGV[4] the legacy value expected (with KEYS[2]).
// Sets the new value only if the key (and the legacy key) still hold the values expected: a
// compare-and-set, so the exact rational arithmetic (which Lua cannot do on 256-bit numbers)
// happens in the service. With a legacy key its balance, already added in ARGV[2], is deleted in
// the same step: a balance moves to its new key atomically, never counted twice nor lost.
// Returns 1 when set, else {0, the value held ('' when absent)} for the next attempt.
const COMPARE_AND_SET_LUA = `
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return {0, current} end
if KEYS[2] then
  if (redis.call('GET', KEYS[2]) or '') ~= ARGV[4] then return {0, current} end
  redis.call('DEL', KEYS[2])
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

/** Balances whose last known value is kept; past this many the memory is simply dropped. */
const MAX_KNOWN = 100_000;

/**
 * Longest stored balance (`num/den`, characters). Honest use stays far below: EVs have powers of
 * two up to 2^256 as denominators and fees small ones. Debits with ever new coprime denominators
 * would otherwise grow the stored rational (and every update's cost) without end.
 */
export const MAX_BALANCE_CHARS = 1_024;

/** Compare-and-set rounds lost to other replicas before giving up with BALANCE_CONTENTION. */
const MAX_ATTEMPTS = 64;

type BalanceRedis = Redis & {
  recipientBalanceCas(numberOfKeys: 1 | 2, ...args: (string | number)[]): Promise<1 | [0, string]>;
};

/**
 * The sender's hash tag, as for its params and rate window: a payment's nonces and its credit can
 * then be one script on one Redis Cluster slot (`RedisNonceLedger`).
 */
export function balanceKey(sender: string, jobId: string): string {
  return `recipient:balance:{${sender}}:${jobId}`;
}

/**
 * Where balances were kept before the sender's hash tag. Never written any more: a balance still
 * there is moved into the new key, in the same compare-and-set script that writes it, the first
 * time this process updates that (sender, job) without knowing its value (its first update after
 * a (re)start). Reads add both meanwhile.
 */
export function legacyBalanceKey(sender: string, jobId: string): string {
  return `recipient:balance:${sender}:${jobId}`;
}

/** `legacyBalanceKey` of a `balanceKey` (sender hex never holds a brace). */
function legacyKeyOf(key: string): string {
  return key.replace(/^recipient:balance:\{([^}]*)\}:/, 'recipient:balance:$1:');
}

function parseStored(raw: string | null): Rational {
  if (raw === null || raw === '') return Rational.ZERO;
  const [num, den] = raw.split('/');
  return Rational.of(BigInt(num), BigInt(den));
}

/**
 * Credit per (sender, job) in exact rationals, kept in Redis so it survives restarts and every
 * replica sees one balance (go-livepeer keeps it in memory, §11, §15.10). Tickets credit their
 * EV, work debits its fee; a debit that would take the balance below −max unsecured is refused
 * and changes nothing. Updates are compare-and-set rounds (concurrent ones of a process share
 * one) against the value this process last saw, so a balance only this replica updates costs one
 * round trip per round; a balance idle for the TTL is dropped.
 */
@Injectable()
export class Balances {
  private readonly redis: BalanceRedis;
  private readonly floor: Rational;
  private readonly ttlMs: number;
  /** Updates waiting per balance key; present while that key's updates are being applied. */
  private readonly waiting = new Map<string, PendingUpdate[]>();
  /** The value each balance key held when this process last read or wrote it ('' = absent), parsed. */
  private readonly known = new Map<string, Known>();
  /** Balances held by a rider (`rider`), with the value they get if it is credited. */
  private readonly riding = new Map<string, Rational>();

  constructor(@InjectRecipientRedis() redis: Redis, config: RecipientConfig) {
    if (!('recipientBalanceCas' in redis)) {
      // The number of keys comes first in each call: 2 when a legacy balance moves along.
      redis.defineCommand('recipientBalanceCas', { lua: COMPARE_AND_SET_LUA });
    }
    this.redis = redis as BalanceRedis;
    this.floor = Rational.of(-config.values.RECIPIENT_MAX_UNSECURED);
    this.ttlMs = config.values.RECIPIENT_BALANCE_TTL_SECONDS * 1000;
  }

  async balance(sender: string, jobId: string): Promise<Rational> {
    const key = balanceKey(sender, jobId);
    const [raw, legacy] = await Promise.all([
      this.redis.get(key),
      this.redis.get(legacyBalanceKey(sender, jobId)),
    ]);
    // Not yet moved: the next update moves it (a remembered value would skip the move).
    if (legacy !== null) return parseStored(raw).add(parseStored(legacy));
    this.remember(key, raw ?? '');
    return parseStored(raw);
  }

  /**
   * Offers the credit of a payment to ride along with its nonces (one round trip, see
   * RedisNonceLedger): only when this process knows the balance's value (its guess is checked by
   * the script's compare-and-set) and no other update of it is in flight here. The balance is then
   * held until `settle`, which must follow whatever happens.
   */
  rider(sender: string, jobId: string, amount: Rational): CreditRider | undefined {
    const key = balanceKey(sender, jobId);
    const known = this.known.get(key);
    if (this.waiting.has(key) || !known) return undefined;
    const next = (known.value ?? parseStored(known.raw)).add(amount);
    const text = next.toString();
    if (text.length > MAX_BALANCE_CHARS) return undefined;
    this.waiting.set(key, []);
    this.riding.set(key, next);
    return { balanceKey: key, expected: known.raw, next: text, ttlMs: this.ttlMs };
  }

  /**
   * Releases a rider's balance: remembers what the script found and starts the updates that queued
   * behind it. Returns the new balance when the credit was applied.
   */
  settle(rider: CreditRider, outcome: RiderOutcome | { kind: 'error' }): Rational | undefined {
    const key = rider.balanceKey;
    const next = this.riding.get(key);
    if (next === undefined) return undefined;
    this.riding.delete(key);
    let credited: Rational | undefined;
    if (outcome.kind === 'credited') {
      this.remember(key, rider.next, next);
      credited = next;
    } else if (outcome.kind === 'stale') {
      this.remember(key, outcome.held);
    } else if (outcome.kind === 'error') {
      // The script may or may not have run: the next update reads the balance first.
      this.known.delete(key);
    }
    if (this.waiting.get(key)?.length) void this.drain(key);
    else this.waiting.delete(key);
    return credited;
  }

  /** Adds `amount` (≥ 0); returns the new balance. */
  credit(sender: string, jobId: string, amount: Rational): Promise<Rational> {
    return this.update(sender, jobId, (current) => current.add(amount));
  }

  /** Subtracts `amount` (≥ 0) unless the result would be below −max unsecured (INSUFFICIENT_BALANCE). */
  debit(sender: string, jobId: string, amount: Rational): Promise<Rational> {
    return this.update(sender, jobId, (current) => {
      const next = current.sub(amount);
      if (next.cmp(this.floor) < 0) {
        throw new RecipientError(
          RecipientErrorCode.INSUFFICIENT_BALANCE,
          `insufficient balance: balance=${current.toDecimalString(3)} fee=${amount.toDecimalString(3)} ` +
            `maxUnsecured=${(-this.floor.num).toString()}`,
        );
      }
      return next;
    });
  }

  private remember(key: string, raw: string, value?: Rational): void {
    if (this.known.size >= MAX_KNOWN && !this.known.has(key)) this.known.clear();
    this.known.set(key, { raw, value });
  }

  /** `raw` parsed, from the memory of `key` when that is what it holds (parsing reduces: a gcd). */
  private parse(key: string, raw: string): Rational {
    const known = this.known.get(key);
    if (known?.value && known.raw === raw) return known.value;
    return parseStored(raw);
  }

  /**
   * Queues `change` behind the other updates of the same balance in this process. Updates that
   * arrive while one round trip is in flight are applied together in the next compare-and-set, so
   * a busy job's balance takes one CAS per round, not one per payment, and only replicas contend.
   */
  private update(sender: string, jobId: string, change: Change): Promise<Rational> {
    const key = balanceKey(sender, jobId);
    return new Promise<Rational>((resolve, reject) => {
      const waiting = this.waiting.get(key);
      if (waiting) {
        waiting.push({ change, resolve, reject });
        return;
      }
      this.waiting.set(key, [{ change, resolve, reject }]);
      void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    for (;;) {
      const group = this.waiting.get(key)!.splice(0);
      if (group.length === 0) {
        this.waiting.delete(key);
        return;
      }
      await this.applyGroup(key, group).catch((err: unknown) => group.forEach((u) => u.reject(err)));
    }
  }

  /**
   * Applies the group's changes in order to the balance and writes the result with one CAS. The
   * first round starts from the value this process last saw (a guess: the CAS checks it); a
   * refused change is only reported when computed from a value Redis just gave.
   */
  private async applyGroup(key: string, group: readonly PendingUpdate[]): Promise<void> {
    let raw = this.known.get(key)?.raw;
    let confirmed = false;
    /** The legacy key's value read with `raw` (null: none): moved by the write that succeeds. */
    let legacy: string | null = null;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (raw === undefined) {
        const [current, old] = await Promise.all([this.redis.get(key), this.redis.get(legacyKeyOf(key))]);
        raw = current ?? '';
        legacy = old;
        confirmed = true;
      }
      let value = this.parse(key, raw);
      if (legacy !== null) value = value.add(parseStored(legacy));
      // A change that throws (insufficient balance, too long) is refused alone; the rest go on.
      const outcomes = group.map((u) => {
        try {
          const next = u.change(value);
          if (next.toString().length > MAX_BALANCE_CHARS) throw balanceTooLong();
          value = next;
          return { ok: true as const, value: next };
        } catch (error) {
          return { ok: false as const, error };
        }
      });
      if (!confirmed && outcomes.some((o) => !o.ok)) {
        raw = undefined;
        continue;
      }
      // Nothing to write unless a change applies or a legacy balance is to be moved.
      let written = !outcomes.some((o) => o.ok) && legacy === null;
      if (!written) {
        const next = value.toString();
        const reply =
          legacy === null
            ? await this.redis.recipientBalanceCas(1, key, raw, next, this.ttlMs)
            : await this.redis.recipientBalanceCas(2, key, legacyKeyOf(key), raw, next, this.ttlMs, legacy);
        written = reply === 1;
        if (written || legacy === null) {
          // What the key holds now, either way: the next round (or update) starts from it.
          raw = written ? next : (reply as [0, string])[1];
          this.remember(key, raw, written ? value : undefined);
          confirmed = true;
        } else {
          // The legacy key changed too (an older replica): read both again.
          raw = undefined;
        }
        if (written) legacy = null;
      }
      if (written) {
        outcomes.forEach((o, i) => (o.ok ? group[i].resolve(o.value) : group[i].reject(o.error)));
        return;
      }
      // Another replica wrote first (or the guess was stale): only a real collision pauses, briefly
      // and at random, so two replicas do not collide again.
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(attempt, 10)));
    }
    throw new RecipientError(RecipientErrorCode.BALANCE_CONTENTION, 'the balance kept changing; retry');
  }
}

type Change = (current: Rational) => Rational;

interface Known {
  raw: string;
  value?: Rational;
}

interface PendingUpdate {
  change: Change;
  resolve(balance: Rational): void;
  reject(err: unknown): void;
}

function balanceTooLong(): RecipientError {
  return invalidRequest(
    `the amount's denominator would make the balance longer than ${MAX_BALANCE_CHARS} characters: ` +
      'send amounts with a denominator the balance already has (e.g. whole wei)',
  );
}
