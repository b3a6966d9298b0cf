import { MAX_SENDER_NONCES } from './constants.js';
import { paramsExpired } from './params-expiry.js';

/** What happened to one nonce offered to the ledger. */
export enum NonceOutcome {
  RECORDED = 'recorded',
  ALREADY_SEEN = 'already-seen',
  TOO_MANY = 'too-many',
}

/**
 * O's replay guard (§5.4 step 5): every nonce is accepted once per set of params, any order,
 * at most MAX_SENDER_NONCES per set. A port: services back it with shared storage so several
 * O processes behind one recipient address agree.
 *
 * Entries are keyed by the params' recipientRandHash (hex), not by recipientRand as go-livepeer
 * does: the two identify the same params once the commitment is checked, and recipientRand must
 * stay secret until redemption, so it must not land in a shared store.
 */
export abstract class NonceLedger {
  /**
   * Offers `nonces` in order for one set of params. A nonce already recorded, or offered when
   * the set is full, is refused; otherwise it is recorded. A new entry lives until its
   * `expirationBlock`. Returns one outcome per nonce, in order.
   */
  abstract record(
    key: string,
    expirationBlock: bigint,
    nonces: readonly number[],
  ): readonly NonceOutcome[] | Promise<readonly NonceOutcome[]>;

  /**
   * Forgets the entries whose params expired (expirationBlock ≤ lastSeenL1Block): their tickets
   * are refused as expired anyway. go-livepeer never runs this cleanup and grows forever (§14.1).
   * Returns how many entries were dropped.
   */
  abstract expire(lastSeenL1Block: bigint): number | Promise<number>;
}

interface LedgerEntry {
  readonly nonces: Set<number>;
  readonly expirationBlock: bigint;
}

/** Process-local NonceLedger for a single O process, tests and benchmarks. */
export class InMemoryNonceLedger extends NonceLedger {
  private readonly entries = new Map<string, LedgerEntry>();

  record(key: string, expirationBlock: bigint, nonces: readonly number[]): NonceOutcome[] {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { nonces: new Set(), expirationBlock };
      this.entries.set(key, entry);
    }
    const seen = entry.nonces;
    return nonces.map((nonce) => {
      if (seen.has(nonce)) return NonceOutcome.ALREADY_SEEN;
      if (seen.size >= MAX_SENDER_NONCES) return NonceOutcome.TOO_MANY;
      seen.add(nonce);
      return NonceOutcome.RECORDED;
    });
  }

  expire(lastSeenL1Block: bigint): number {
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (paramsExpired(entry.expirationBlock, lastSeenL1Block)) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** Number of live entries (one per set of params). */
  get size(): number {
    return this.entries.size;
  }
}
