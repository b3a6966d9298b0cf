import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { FINAL_STATUSES, WinningTicketEntity, WinningTicketStatus } from '#app/database';

export interface OpenTicketRef {
  ticketHash: string;
  sender: string;
  status: WinningTicketStatus;
}

/**
 * The Redeemer's reads of `winning_ticket` (status changes go through WinningTicketRepository's
 * compare-and-set) and its own `redemption` bookkeeping.
 */
@Injectable()
export class RedemptionRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  ticketsByHash(hashes: readonly string[]): Promise<WinningTicketEntity[]> {
    if (hashes.length === 0) return Promise.resolve([]);
    return this.ds.getRepository(WinningTicketEntity).findBy({ ticketHash: In([...hashes]) });
  }

  /** Non-final tickets, oldest first, optionally only those paying `recipients`. */
  async openTickets(recipients: readonly string[] | undefined, limit: number): Promise<OpenTicketRef[]> {
    const params: unknown[] = [FINAL_STATUSES, limit];
    let filter = '';
    if (recipients) {
      params.push(recipients);
      filter = 'AND recipient = ANY($3::text[])';
    }
    const rows = await this.ds.query<{ ticket_hash: string; sender: string; status: WinningTicketStatus }[]>(
      `SELECT ticket_hash, sender, status FROM winning_ticket
        WHERE status <> ALL($1::text[]) ${filter}
        ORDER BY created_at ASC LIMIT $2`,
      params,
    );
    return rows.map((r) => ({ ticketHash: r.ticket_hash, sender: r.sender, status: r.status }));
  }

  /** Ticket counts per status (for /ops/status), optionally only those paying `recipients`. */
  async countByStatus(recipients: readonly string[] | undefined): Promise<Record<string, number>> {
    const params: unknown[] = [];
    let filter = '';
    if (recipients) {
      params.push(recipients);
      filter = 'WHERE recipient = ANY($1::text[])';
    }
    const rows = await this.ds.query<{ status: string; n: number }[]>(
      `SELECT status, count(*)::int AS n FROM winning_ticket ${filter} GROUP BY status`,
      params,
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /** Counts one more retryable failure and returns how many there have been. */
  async recordRetry(ticketHash: string, code: string, error: string | null): Promise<number> {
    const rows = await this.ds.query<{ attempts: number }[]>(
      `INSERT INTO redemption (ticket_hash, attempts, last_code, last_error) VALUES ($1, 1, $2, $3)
       ON CONFLICT (ticket_hash) DO UPDATE
         SET attempts = redemption.attempts + 1, last_code = EXCLUDED.last_code,
             last_error = EXCLUDED.last_error, updated_at = now()
       RETURNING attempts`,
      [ticketHash, code, error],
    );
    return rows[0].attempts;
  }

  async attempts(ticketHash: string): Promise<number> {
    const rows = await this.ds.query<{ attempts: number }[]>(
      `SELECT attempts FROM redemption WHERE ticket_hash = $1`,
      [ticketHash],
    );
    return rows[0]?.attempts ?? 0;
  }

  /** Notes why a ticket is waiting or how it ended (does not count as an attempt). */
  async recordCode(ticketHash: string, code: string): Promise<void> {
    await this.ds.query(
      `INSERT INTO redemption (ticket_hash, last_code) VALUES ($1, $2)
       ON CONFLICT (ticket_hash) DO UPDATE SET last_code = EXCLUDED.last_code, updated_at = now()
       WHERE redemption.last_code IS DISTINCT FROM EXCLUDED.last_code`,
      [ticketHash, code],
    );
  }

  async recordRedeemed(ticketHash: string, chainTxId: string, amountPaid: bigint): Promise<void> {
    await this.ds.query(
      `INSERT INTO redemption (ticket_hash, chain_tx_id, amount_paid, redeemed_at, last_code)
       VALUES ($1, $2, $3, now(), NULL)
       ON CONFLICT (ticket_hash) DO UPDATE
         SET chain_tx_id = EXCLUDED.chain_tx_id, amount_paid = EXCLUDED.amount_paid,
             redeemed_at = EXCLUDED.redeemed_at, last_code = NULL, updated_at = now()`,
      [ticketHash, chainTxId, amountPaid.toString()],
    );
  }
}
