import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { WinningTicketStatus } from '../winning-ticket/winning-ticket.entity.js';
import { FINAL_STATUSES } from '../winning-ticket/winning-ticket.transitions.js';
import type { PageWindow } from './ticket-queries.js';

/** What Postgres holds of one sender's winning tickets. */
export interface SenderSummaryRow {
  sender: string;
  won: number;
  pending: number;
  redeemed: number;
  face_value_won: string;
  face_value_pending: string;
  last_ticket_at: Date;
}

const SENDER_SQL = `
  SELECT sender,
         count(*)::int AS won,
         count(*) FILTER (WHERE NOT (status = ANY($1::text[])))::int AS pending,
         count(*) FILTER (WHERE status = '${WinningTicketStatus.REDEEMED}')::int AS redeemed,
         sum(face_value)::text AS face_value_won,
         COALESCE(sum(face_value) FILTER (WHERE NOT (status = ANY($1::text[]))), 0)::text AS face_value_pending,
         max(created_at) AS last_ticket_at
  FROM winning_ticket WHERE ($2::text IS NULL OR sender = $2)`;

/** Read model of senders as seen through their winning tickets (ops API). Read-only. */
@Injectable()
export class SenderSummaries {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Senders by their latest winning ticket, newest first, with how many there are in all. */
  async list(page: PageWindow): Promise<{ rows: SenderSummaryRow[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.ds.query<SenderSummaryRow[]>(
        `${SENDER_SQL} GROUP BY sender ORDER BY max(created_at) DESC, sender LIMIT $3 OFFSET $4`,
        [FINAL_STATUSES, null, page.limit, page.offset],
      ),
      this.ds.query<{ n: string }[]>(`SELECT count(DISTINCT sender)::text AS n FROM winning_ticket`),
    ]);
    return { rows, total: Number(count[0].n) };
  }

  async get(sender: string): Promise<SenderSummaryRow | undefined> {
    const rows = await this.ds.query<SenderSummaryRow[]>(`${SENDER_SQL} GROUP BY sender`, [
      FINAL_STATUSES,
      sender,
    ]);
    return rows[0];
  }
}
