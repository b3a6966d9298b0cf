import { Injectable } from '@nestjs/common';
import { PendingFaceValue } from '#app/database';

export interface PendingAmounts {
  /** Over every recipient. */
  total: bigint;
  /** Per recipient (lowercase). */
  byRecipient: ReadonlyMap<string, bigint>;
}

const NONE: PendingAmounts = { total: 0n, byRecipient: new Map() };
/** Senders per query: keeps the `= ANY($1)` array and the result set bounded. */
const BATCH = 1_000;

/**
 * Face value pending redemption per sender and recipient (the database's PendingFaceValue: Postgres
 * is the ledger). This class only caches the last sums of the senders being watched, refreshed
 * with one grouped query per poll, and at once for a sender with new winners.
 *
 * Refreshes may overlap (the poll, a notification, QueueTicket): a read is kept only if no read of
 * that sender begun after it was kept already, so a slow read of an older state never replaces
 * a newer one.
 */
@Injectable()
export class PendingRedemptions {
  private readonly cache = new Map<string, PendingAmounts>();
  /** Per cached sender, the sequence number of the read its amounts come from. */
  private readonly readSeq = new Map<string, number>();
  private seq = 0;

  constructor(private readonly pendingFaceValue: PendingFaceValue) {}

  peek(sender: string): PendingAmounts | undefined {
    return this.cache.get(sender);
  }

  /** The sender's pending amounts, read now. */
  async load(sender: string): Promise<PendingAmounts> {
    await this.refresh([sender]);
    return this.cache.get(sender) ?? NONE;
  }

  /** Re-reads the given senders; returns those whose amounts changed. */
  async refresh(senders: readonly string[]): Promise<string[]> {
    const changed: string[] = [];
    for (let i = 0; i < senders.length; i += BATCH) {
      const batch = senders.slice(i, i + BATCH);
      const seq = ++this.seq;
      const rows = await this.pendingFaceValue.bySenderAndRecipient(batch);
      const fresh = new Map<string, Map<string, bigint>>(batch.map((s) => [s, new Map()]));
      for (const row of rows) fresh.get(row.sender)?.set(row.recipient, row.pending);
      for (const [sender, byRecipient] of fresh) {
        if ((this.readSeq.get(sender) ?? 0) > seq) continue;
        this.readSeq.set(sender, seq);
        let total = 0n;
        for (const v of byRecipient.values()) total += v;
        const next: PendingAmounts = { total, byRecipient };
        if (!sameAmounts(this.cache.get(sender), next)) changed.push(sender);
        this.cache.set(sender, next);
      }
    }
    return changed;
  }

  delete(sender: string): void {
    this.cache.delete(sender);
    this.readSeq.delete(sender);
  }
}

function sameAmounts(a: PendingAmounts | undefined, b: PendingAmounts): boolean {
  if (!a) return b.total === 0n;
  if (a.total !== b.total || a.byRecipient.size !== b.byRecipient.size) return false;
  for (const [recipient, v] of b.byRecipient) if (a.byRecipient.get(recipient) !== v) return false;
  return true;
}
