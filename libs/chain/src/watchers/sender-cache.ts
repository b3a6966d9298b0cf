import type { SenderInfo } from '#app/ticket';
import type { BrokerEvent, NewRoundEvent } from './chain-events.js';
import { WatcherError, WatcherErrorCode } from './watcher.error.js';

/** The events that move a cached sender's state. */
export type SenderEvent = BrokerEvent | NewRoundEvent;

/** A sender's TicketBroker state as the cache holds it. */
export interface CachedSender {
  sender: string;
  info: SenderInfo;
  /** `claimedReserve(sender, claimant)` in the current round, for every tracked claimant. */
  claimed: ReadonlyMap<string, bigint>;
  /** The state is exact as of this block (every later event up to the synced block applied). */
  asOfBlock: bigint;
}

/** How a sender's state is read from the chain on a cache miss: at exactly `block`. */
export interface SenderStateReader {
  read(
    sender: string,
    claimants: readonly string[],
    block: bigint,
  ): Promise<{ info: SenderInfo; claimed: readonly bigint[] }>;
}

/**
 * `cached` as the contract reads it now: claims are kept per round (`claimedReserve`,
 * `claimedInCurrentRound` read the current round's), and none can be made in a round before it is
 * initialized (redemptions revert), while the cache's counts stay the last initialized round's
 * until its NewRound event. So from a round's first block to its initialization they are 0, and
 * the reserve is shared out whole again: what the contract's `claimableReserve` says meanwhile.
 */
export function claimsOfRound(cached: CachedSender, currentRoundInitialized: boolean): CachedSender {
  if (currentRoundInitialized) return cached;
  const { reserve } = cached.info;
  return {
    ...cached,
    info: { ...cached.info, reserve: { ...reserve, claimedInCurrentRound: 0n } },
    claimed: new Map([...cached.claimed.keys()].map((claimant) => [claimant, 0n])),
  };
}

interface Entry {
  deposit: bigint;
  withdrawRound: bigint;
  fundsRemaining: bigint;
  claimedInCurrentRound: bigint;
  claimed: Map<string, bigint>;
  asOfBlock: bigint;
}

interface Inflight {
  promise: Promise<CachedSender>;
  /** Events applied while the read was under way; replayed onto its result. */
  backlog: SenderEvent[];
  cancelled: boolean;
}

/**
 * Per-sender TicketBroker state (deposit, reserve, withdraw round, claimed reserve per claimant),
 * read once per sender and then kept exact from events in chain order (go-livepeer's
 * SenderWatcher, PROTOCOL.md §8.6), so no sender is ever polled.
 *
 * Consistency: a miss reads the chain at the block up to which events have been applied
 * (`syncedBlock`), and events applied while that read is in flight are replayed onto its result.
 * Event application and the advance of `syncedBlock` happen in one synchronous step, so a read
 * can never fall between them.
 *
 * Event rules follow the contract rather than go-livepeer where they differ: reserve claims come
 * from `ReserveClaimed` (exact, for every claimant, PROTOCOL.md §14.9), a `WinningTicketTransfer`
 * only drains the deposit, and `Withdrawal` leaves `withdrawRound` set (TICKETBROKER.md §4.2).
 */
export class SenderCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Inflight>();
  private readonly claimants: readonly string[];

  constructor(
    private readonly reader: SenderStateReader,
    claimants: readonly string[],
    private readonly syncedBlock: () => bigint | undefined,
  ) {
    this.claimants = [...new Set(claimants.map((c) => c.toLowerCase()))];
  }

  /** Claimants whose claimed reserve is tracked (lowercase). */
  trackedClaimants(): readonly string[] {
    return this.claimants;
  }

  /** The cached state, or undefined without reading the chain. */
  peek(sender: string): CachedSender | undefined {
    const key = sender.toLowerCase();
    const entry = this.entries.get(key);
    return entry && snapshot(key, entry);
  }

  /** The cached state, read from the chain on a miss (concurrent misses share one read). */
  get(sender: string): Promise<CachedSender> {
    const cached = this.peek(sender);
    return cached ? Promise.resolve(cached) : this.fetch(sender.toLowerCase());
  }

  senders(): string[] {
    return [...this.entries.keys()];
  }

  get size(): number {
    return this.entries.size;
  }

  /** Forgets a sender (go-livepeer `SenderManager.Clear`); a read in flight for it is discarded. */
  delete(sender: string): void {
    const key = sender.toLowerCase();
    this.entries.delete(key);
    const slot = this.inflight.get(key);
    if (slot) slot.cancelled = true;
  }

  clear(): void {
    for (const key of [...this.entries.keys(), ...this.inflight.keys()]) this.delete(key);
  }

  /**
   * Applies one event (callers pass events in chain order). Returns the cached senders whose
   * state changed; a NewRound resets every sender's claims of the round (§8.6).
   */
  apply(event: SenderEvent): string[] {
    if (event.kind === 'NewRound') {
      for (const slot of this.inflight.values()) slot.backlog.push(event);
      const changed: string[] = [];
      for (const [sender, entry] of this.entries) {
        if (applyTo(entry, event)) changed.push(sender);
      }
      return changed;
    }
    this.inflight.get(event.sender)?.backlog.push(event);
    const entry = this.entries.get(event.sender);
    return entry && applyTo(entry, event) ? [event.sender] : [];
  }

  /**
   * Reads every cached sender again at the synced block: after a reorg, or after a gap too long
   * to back-fill from logs. Returns the senders read (failures leave the sender out of the cache,
   * to be read again on its next access).
   */
  async refetchAll(concurrency = 8): Promise<string[]> {
    const senders = this.senders();
    const done: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < senders.length) {
        const sender = senders[next++];
        try {
          await this.fetch(sender, true);
          done.push(sender);
        } catch {
          this.entries.delete(sender);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, senders.length) }, worker));
    return done;
  }

  private fetch(sender: string, force = false): Promise<CachedSender> {
    const existing = this.inflight.get(sender);
    if (existing && !existing.cancelled && !force) return existing.promise;
    // A forced read supersedes one in flight, which no longer receives events and must not store.
    if (existing) existing.cancelled = true;
    const at = this.syncedBlock();
    if (at === undefined) {
      return Promise.reject(new WatcherError(WatcherErrorCode.NOT_SYNCED, 'the chain has not been read yet'));
    }
    const slot: Inflight = { backlog: [], cancelled: false, promise: Promise.resolve(undefined as never) };
    slot.promise = (async () => {
      try {
        const { info, claimed } = await this.reader.read(sender, this.claimants, at);
        const entry: Entry = {
          deposit: info.deposit,
          withdrawRound: info.withdrawRound,
          fundsRemaining: info.reserve.fundsRemaining,
          claimedInCurrentRound: info.reserve.claimedInCurrentRound,
          claimed: new Map(this.claimants.map((c, i) => [c, claimed[i] ?? 0n])),
          asOfBlock: at,
        };
        for (const event of slot.backlog) if (event.block > at) applyTo(entry, event);
        if (!slot.cancelled) this.entries.set(sender, entry);
        return snapshot(sender, entry);
      } finally {
        if (this.inflight.get(sender) === slot) this.inflight.delete(sender);
      }
    })();
    this.inflight.set(sender, slot);
    return slot.promise;
  }
}

/** Applies an event to one entry; returns whether anything changed. */
function applyTo(entry: Entry, event: SenderEvent): boolean {
  const before = fingerprint(entry);
  switch (event.kind) {
    case 'DepositFunded':
      entry.deposit += event.amount;
      break;
    case 'ReserveFunded':
      entry.fundsRemaining += event.amount;
      break;
    case 'ReserveClaimed': {
      entry.fundsRemaining = event.amount > entry.fundsRemaining ? 0n : entry.fundsRemaining - event.amount;
      entry.claimedInCurrentRound += event.amount;
      const claimed = entry.claimed.get(event.claimant);
      if (claimed !== undefined) entry.claimed.set(event.claimant, claimed + event.amount);
      break;
    }
    case 'WinningTicketTransfer':
      // amount = the deposit part + what ReserveClaimed (emitted just before) took from the
      // reserve; either the deposit covered it all, or the deposit is now empty.
      entry.deposit = event.amount >= entry.deposit ? 0n : entry.deposit - event.amount;
      break;
    case 'Unlock':
      entry.withdrawRound = event.endRound;
      break;
    case 'UnlockCancelled':
      entry.withdrawRound = 0n;
      break;
    case 'Withdrawal':
      entry.deposit = 0n;
      entry.fundsRemaining = 0n;
      break;
    case 'NewRound':
      entry.claimedInCurrentRound = 0n;
      for (const claimant of entry.claimed.keys()) entry.claimed.set(claimant, 0n);
      break;
  }
  entry.asOfBlock = event.block > entry.asOfBlock ? event.block : entry.asOfBlock;
  return fingerprint(entry) !== before;
}

function fingerprint(e: Entry): string {
  return [e.deposit, e.withdrawRound, e.fundsRemaining, e.claimedInCurrentRound, ...e.claimed.values()].join(
    ',',
  );
}

function snapshot(sender: string, e: Entry): CachedSender {
  return {
    sender,
    info: {
      deposit: e.deposit,
      withdrawRound: e.withdrawRound,
      reserve: { fundsRemaining: e.fundsRemaining, claimedInCurrentRound: e.claimedInCurrentRound },
    },
    claimed: new Map(e.claimed),
    asOfBlock: e.asOfBlock,
  };
}
