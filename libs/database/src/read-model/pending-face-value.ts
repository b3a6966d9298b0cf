import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { FINAL_STATUSES } from '../winning-ticket/winning-ticket.transitions.js';

/**
 * Face value pending redemption: the sum over a sender's `winning_ticket` rows that are not final
 * (received, queued, submitting, submitted). Postgres is the ledger, not a counter kept beside it:
 * every writer (the intake, every Redeemer worker) moves those rows, so the sum is shared by all
 * readers (max float in the SenderMonitor and the Recipient), survives restarts and cannot drift.
 */
@Injectable()
export class PendingFaceValue {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * A sender's pending face value to one recipient (what max float deducts from that recipient's
   * reserve allocation) and over every recipient (what the deposit must cover to waive it).
   */
  async ofSenderTo(sender: string, recipient: string): Promise<{ pending: bigint; pendingTotal: bigint }> {
    const rows = await this.ds.query<{ pending: string; total: string }[]>(
      `SELECT COALESCE(SUM(face_value) FILTER (WHERE recipient = $2), 0)::text AS pending,
              COALESCE(SUM(face_value), 0)::text AS total
         FROM winning_ticket WHERE sender = $1 AND status <> ALL($3::text[])`,
      [sender, recipient, FINAL_STATUSES],
    );
    return { pending: BigInt(rows[0].pending), pendingTotal: BigInt(rows[0].total) };
  }

  /** Per sender and recipient, for the given senders (pairs with nothing pending are absent). */
  async bySenderAndRecipient(
    senders: readonly string[],
  ): Promise<{ sender: string; recipient: string; pending: bigint }[]> {
    const rows = await this.ds.query<{ sender: string; recipient: string; pending: string }[]>(
      `SELECT sender, recipient, SUM(face_value)::text AS pending
         FROM winning_ticket
        WHERE sender = ANY($1::text[]) AND status <> ALL($2::text[])
        GROUP BY sender, recipient`,
      [senders, FINAL_STATUSES],
    );
    return rows.map((r) => ({ sender: r.sender, recipient: r.recipient, pending: BigInt(r.pending) }));
  }
}
