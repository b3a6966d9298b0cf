import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Rational } from '#app/ticket';
import type { CreditRider, RiderOutcome } from '../nonce/redis-nonce-ledger.js';
import { InjectRecipientRedis } from '../recipient-redis.js';
import { RecipientConfig } from '../recipient.config.js';
import { invalidRequest, RecipientError, RecipientErrorCode } from '../recipient.error.js';

/**
 * Lua: the credit a balance is owed, as a canonical string: `ev=count` per entry, sorted, joined
 * by ',' ('' when none). The nonce script adds `count` tickets of EV `ev` to it (HINCRBY) when it
 * records nonces it cannot credit to the balance itself (a compare-and-set it cannot do); the next
 * compare-and-set here moves it into the balance, in the same step that writes it.
 */
export const PENDING_CREDIT_FUNCTION = `
local function pendingOf(key)
  local flat = redis.call('HGETALL', key)
  local entries = {}
  for i = 1, #flat, 2 do entries[#entries + 1] = flat[i] .. '=' .. flat[i + 1] end
  table.sort(entries)
  return table.concat(entries, ',')
end
`;

// KEYS[1] balance, KEYS[2] its pending credit, KEYS[3] its legacy key (optional); ARGV[1] the
// value expected ('' when absent), ARGV[2] the new value, ARGV[3] TTL ms, ARGV[4] the pending
// credit expected (pendingOf), ARGV[5] the legacy value expected (with KEYS[3]).
// Sets the new value only if the keys still hold the values expected: a compare-and-set, so the
// exact rational arithmetic (which Lua cannot do on 256-bit numbers) happens in the service. The
// pending credit and a legacy balance, already added in ARGV[2], are deleted in the same step:
// moved into the balance atomically, never counted twice nor lost.
// Returns 1 when set, else {0, the value held, the pending credit held} for the next attempt.
const COMPARE_AND_SET_LUA = `${PENDING_CREDIT_FUNCTION}
local current = redis.call('GET', KEYS[1]) or ''
local pending = pendingOf(KEYS[2])
if current ~= ARGV[1] or pending ~= ARGV[4] then return {0, current, pending} end
if KEYS[3] then
  if (redis.call('GET', KEYS[3]) or '') ~= ARGV[5] then return {0, current, pending} end
  redis.call('DEL', KEYS[3])
end
if pending ~= '' then redis.call('DEL', KEYS[2]) end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

// KEYS[1] a balance, KEYS[2] its pending credit: {the balance ('' when absent), pendingOf(KEYS[2])}.
// The service reads both through here, so the pending credit's string has one writer (the Lua
// function above) and the compare-and-set compares it with a string built the same way.
const READ_LUA = `${PENDING_CREDIT_FUNCTION}
return {redis.call('GET', KEYS[1]) or '', pendingOf(KEYS[2])}
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
  recipientBalanceCas(numberOfKeys: 2 | 3, ...args: (string | number)[]): Promise<1 | [0, string, string]>;
  recipientBalanceRead(key: string, pendingKey: string): Promise<[string, string]>;
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

/**
 * The credit recorded with a payment's nonces but not yet added to its (sender, job) balance
 * (PENDING_CREDIT_FUNCTION): a hash of EV → ticket count, under the sender's hash tag.
 */
export function pendingCreditKey(sender: string, jobId: string): string {
  return `recipient:credit:{${sender}}:${jobId}`;
}

/** `pendingCreditKey` of a `balanceKey`. */
function pendingKeyOf(key: string): string {
  return `recipient:credit:${key.slice('recipient:balance:'.length)}`;
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

/** The sum of a pending credit (PENDING_CREDIT_FUNCTION's string). */
function parsePending(pending: string): Rational {
  let sum = Rational.ZERO;
  if (pending === '') return sum;
  for (const entry of pending.split(',')) {
    const [ev, count] = entry.split('=');
    sum = sum.add(parseStored(ev).mul(Rational.of(BigInt(count))));
  }
  return sum;
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
export class Balances implements BeforeApplicationShutdown {
  private readonly logger = new Logger(Balances.name);
  private readonly redis: BalanceRedis;
  private readonly floor: Rational;
  private readonly ttlMs: number;
  /** Updates waiting per balance key; present while that key's updates are being applied. */
  private readonly waiting = new Map<string, PendingUpdate[]>();
  /** The value each balance key held when this process last read or wrote it ('' = absent), parsed. */
  private readonly known = new Map<string, Known>();
  /** Balances held by a rider (`rider`), with the value they get if it is credited. */
  private readonly riding = new Map<string, { next: Rational; rider: CreditRider }>();
  /** The pending credit a key's next update expects (PENDING_CREDIT_FUNCTION), when not none. */
  private readonly pendingGuess = new Map<string, string>();
  /** Moves of pending credit going on behind the payments that owed them (`settle`). */
  private readonly moving = new Set<Promise<void>>();

  constructor(@InjectRecipientRedis() redis: Redis, config: RecipientConfig) {
    if (!('recipientBalanceCas' in redis)) {
      // The number of keys comes first in each call: 3 when a legacy balance moves along.
      redis.defineCommand('recipientBalanceCas', { lua: COMPARE_AND_SET_LUA });
    }
    if (!('recipientBalanceRead' in redis)) {
      redis.defineCommand('recipientBalanceRead', { numberOfKeys: 2, lua: READ_LUA });
    }
    this.redis = redis as BalanceRedis;
    this.floor = Rational.of(-config.values.RECIPIENT_MAX_UNSECURED);
    this.ttlMs = config.values.RECIPIENT_BALANCE_TTL_SECONDS * 1000;
  }

  async balance(sender: string, jobId: string): Promise<Rational> {
    const key = balanceKey(sender, jobId);
    const [[raw, owed], legacy] = await this.read(key);
    const total = parseStored(raw).add(parsePending(owed));
    // Not yet moved: the next update moves them (a remembered value would let a rider skip the move).
    if (legacy !== null) return total.add(parseStored(legacy));
    if (owed === '') this.remember(key, raw);
    return total;
  }

  /**
   * The credit of a payment (`tickets` tickets of EV `ev`), to ride along with its nonces in one
   * script (RedisNonceLedger): the balance is set there when every nonce is new and it still holds
   * the value this process knows, else the tickets recorded are added to its pending credit. The
   * first needs the value (read first when unknown) and no other update of it in flight here: the
   * balance is then held until `settle`, which must follow whatever happens. A credit that would
   * make a known balance too long is refused (INVALID_REQUEST) before anything is recorded.
   */
  async rider(sender: string, jobId: string, ev: Rational, tickets: number): Promise<CreditRider> {
    const key = balanceKey(sender, jobId);
    if (!this.known.has(key) && !this.waiting.has(key)) await this.balance(sender, jobId);
    const rider = { balanceKey: key, pendingKey: pendingKeyOf(key), ev: ev.toString(), ttlMs: this.ttlMs };
    const known = this.known.get(key);
    if (this.waiting.has(key) || !known) return { ...rider, expected: NEVER_HELD, next: '' };
    const next = (known.value ?? parseStored(known.raw)).add(ev.mul(Rational.of(BigInt(tickets))));
    const text = next.toString();
    if (text.length > MAX_BALANCE_CHARS) throw balanceTooLong();
    const held = { ...rider, expected: known.raw, next: text };
    this.waiting.set(key, []);
    this.riding.set(key, { next, rider: held });
    return held;
  }

  /**
   * What the script did with a rider: releases its balance (the updates queued behind it go on)
   * and moves the pending credit the balance is owed, if any, into it: the payment's own credit
   * when the script could not set the balance, or one left earlier (a crash, another replica) when
   * it did. Returns the balance after the credit, as a read right after would give it, or
   * undefined when nothing was credited (nor is owed). When the script told the whole balance (the
   * value it set or found, and what is owed) that is the answer at once, and the move goes on behind
   * it: the payment is applied, reads count what is still owed, and should the move fail (Redis
   * gone, lost races) the next update moves it. Waiting for it would put every payment of a busy
   * balance behind that balance's chain of compare-and-sets.
   */
  async settle(rider: CreditRider, outcome: RiderOutcome): Promise<Rational | undefined> {
    const key = rider.balanceKey;
    const held = this.riding.get(key);
    const owed = outcome.kind === 'credited' || outcome.kind === 'pending' ? outcome.pending : '';
    let answer: Rational | undefined;
    /** The balance as the script left it (set or found, not yet moved), when it told. */
    let told: Rational | undefined;
    if (held?.rider === rider) {
      this.riding.delete(key);
      if (outcome.kind === 'credited') {
        this.remember(key, rider.next, held.next);
        answer = told = held.next;
      } else if (outcome.kind === 'pending' && outcome.found !== null) {
        // Stale: the move below starts from what the script found, not a refused compare-and-set.
        this.remember(key, outcome.found);
        told = parseStored(outcome.found);
      } else if (outcome.kind === 'error') {
        // The script may or may not have run: the next update reads the balance first.
        this.known.delete(key);
      }
    } else if (outcome.kind === 'pending' && outcome.found !== null && this.known.has(key)) {
      // Another update held the balance: the script read it all the same. A known key has no
      // legacy balance left to add (the first update after a start moves it; none is written).
      told = this.parse(key, outcome.found);
    }
    // Queued behind the updates that waited for the rider, with the pending credit they expect.
    const moved = owed !== '' ? this.update(key, (current) => current, owed) : undefined;
    if (held?.rider === rider) {
      if (this.waiting.get(key)?.length) void this.drain(key);
      else this.waiting.delete(key);
    }
    if (!moved) return answer;
    if (told === undefined) return moved;
    const behind = moved.then(
      () => undefined,
      (err: unknown) =>
        this.logger.warn({
          msg: 'pending credit not moved into its balance; the next update moves it',
          error: err instanceof Error ? err.message : String(err),
        }),
    );
    this.moving.add(behind);
    void behind.finally(() => this.moving.delete(behind));
    return told.add(parsePending(owed));
  }

  /** Lets the moves still going on behind their answers end while Redis is open. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.moving]);
  }

  /** Subtracts `amount` (≥ 0) unless the result would be below −max unsecured (INSUFFICIENT_BALANCE). */
  debit(sender: string, jobId: string, amount: Rational): Promise<Rational> {
    return this.update(balanceKey(sender, jobId), (current) => {
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

  /**
   * A balance ('' when absent) and its pending credit, in one script (one Cluster slot), and its
   * legacy value (null when none), a key of another slot, read alongside.
   */
  private read(key: string): Promise<[[string, string], string | null]> {
    return Promise.all([
      this.redis.recipientBalanceRead(key, pendingKeyOf(key)),
      this.redis.get(legacyKeyOf(key)),
    ]);
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
  private update(key: string, change: Change, pendingGuess?: string): Promise<Rational> {
    if (pendingGuess !== undefined) this.pendingGuess.set(key, pendingGuess);
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
   * Applies the group's changes in order to the balance and writes the result with one CAS, which
   * also moves its pending credit (and a legacy balance) into it. The first round starts from the
   * value this process last saw and no pending credit unless a payment just reported one (a guess:
   * the CAS checks it); a refused change is only reported when computed from values Redis just gave.
   */
  private async applyGroup(key: string, group: readonly PendingUpdate[]): Promise<void> {
    let raw = this.known.get(key)?.raw;
    let pending = this.pendingGuess.get(key) ?? '';
    this.pendingGuess.delete(key);
    let confirmed = false;
    /** The legacy key's value read with `raw` (null: none): moved by the write that succeeds. */
    let legacy: string | null = null;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (raw === undefined) {
        [[raw, pending], legacy] = await this.read(key);
        confirmed = true;
      }
      let value = this.parse(key, raw).add(parsePending(pending));
      if (legacy !== null) value = value.add(parseStored(legacy));
      // A change that throws (insufficient balance, too long) is refused alone; the rest go on.
      const outcomes = group.map((u) => {
        try {
          const next = u.change(value);
          // What is already owed is not refused for its length (EVs have power-of-two denominators).
          if (next !== value && next.toString().length > MAX_BALANCE_CHARS) throw balanceTooLong();
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
      // Nothing to write unless a change applies or a pending credit or legacy balance is to be moved.
      let written = !outcomes.some((o) => o.ok) && legacy === null && pending === '';
      if (!written) {
        const next = value.toString();
        const pendingKey = pendingKeyOf(key);
        const reply =
          legacy === null
            ? await this.redis.recipientBalanceCas(2, key, pendingKey, raw, next, this.ttlMs, pending)
            : await this.redis.recipientBalanceCas(
                3,
                key,
                pendingKey,
                legacyKeyOf(key),
                raw,
                next,
                this.ttlMs,
                pending,
                legacy,
              );
        written = reply === 1;
        if (written || legacy === null) {
          // What the keys hold now, either way: the next round (or update) starts from it.
          raw = written ? next : (reply as [0, string, string])[1];
          pending = written ? '' : (reply as [0, string, string])[2];
          this.remember(key, raw, written ? value : undefined);
          confirmed = true;
        } else {
          // The legacy key changed too (an older replica): read them again.
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

/** A balance never holds this: the expectation of a rider that is not to be applied directly. */
const NEVER_HELD = '-';

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
