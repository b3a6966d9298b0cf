import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { FINAL_STATUSES } from '#app/database';

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
 * Face value pending redemption per sender: the sum over its `winning_ticket` rows that are not
 * final (received, queued, submitting, submitted).
 *
 * Postgres is the ledger, not a counter kept beside it: every writer (the Recipient's intake,
 * QueueTicket, every Redeemer worker) already moves those rows, so the sum is shared by all of
 * them, survives restarts and cannot drift. This class only caches the last sums of the senders
 * being watched, refreshed with one grouped query per poll.
 */
@Injectable()
export class PendingRedemptions {
  private readonly cache = new Map<string, PendingAmounts>();

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

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
      const rows = await this.ds.query<{ sender: string; recipient: string; pending: string }[]>(
        `SELECT sender, recipient, SUM(face_value)::text AS pending
           FROM winning_ticket
          WHERE sender = ANY($1::text[]) AND status <> ALL($2::text[])
          GROUP BY sender, recipient`,
        [batch, FINAL_STATUSES],
      );
      const fresh = new Map<string, Map<string, bigint>>(batch.map((s) => [s, new Map()]));
      for (const row of rows) fresh.get(row.sender)?.set(row.recipient, BigInt(row.pending));
      for (const [sender, byRecipient] of fresh) {
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
  }
}

function sameAmounts(a: PendingAmounts | undefined, b: PendingAmounts): boolean {
  if (!a) return b.total === 0n;
  if (a.total !== b.total || a.byRecipient.size !== b.byRecipient.size) return false;
  for (const [recipient, v] of b.byRecipient) if (a.byRecipient.get(recipient) !== v) return false;
  return true;
}
