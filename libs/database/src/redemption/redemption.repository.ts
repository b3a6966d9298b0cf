import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { DbTransaction } from '../unit-of-work.js';

/**
 * What a ticket's `redemption` row records of a move: its code (how it ended, or why it waits), or
 * with `retry` one more attempt counted, with the error of the attempt.
 */
export type RedemptionNote =
  { code: string; retry?: false } | { code: string; retry: true; error: string | null };

/**
 * The only writer of `redemption`, the Redeemer's bookkeeping per ticket: retries for back-off, the
 * last reason it could not go through, and once redeemed, the tx and the amount paid. The writes
 * that go with a move of the ticket take that move's DbTransaction (UnitOfWork), so a ticket never
 * ends without its row (a REDEEMED ticket without its amount paid).
 */
@Injectable()
export class RedemptionRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private db(trx?: DbTransaction): EntityManager {
    return trx ?? this.ds.manager;
  }

  /**
   * A ticket's status move and its `redemption` note in one database transaction (`trx` when
   * given, else one of its own): the note is written only if `move` (a compare-and-set of the
   * ticket's row, run in that transaction) moved the row, so a ticket never ends, or goes back in
   * line, without its note. Returns whether the row moved.
   */
  moveWithCode(
    ticketHash: string,
    move: (trx: DbTransaction) => Promise<boolean>,
    note: RedemptionNote,
    trx?: DbTransaction,
  ): Promise<boolean> {
    const work = async (t: DbTransaction): Promise<boolean> => {
      if (!(await move(t))) return false;
      if (note.retry) await this.recordRetry(ticketHash, note.code, note.error, t);
      else await this.recordCode(ticketHash, note.code, t);
      return true;
    };
    return trx ? work(trx) : this.ds.transaction(work);
  }

  /** Counts one more retryable failure and returns how many there have been. */
  async recordRetry(
    ticketHash: string,
    code: string,
    error: string | null,
    trx?: DbTransaction,
  ): Promise<number> {
    const rows = await this.db(trx).query<{ attempts: number }[]>(
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
  async recordCode(ticketHash: string, code: string, trx?: DbTransaction): Promise<void> {
    await this.db(trx).query(
      `INSERT INTO redemption (ticket_hash, last_code) VALUES ($1, $2)
       ON CONFLICT (ticket_hash) DO UPDATE SET last_code = EXCLUDED.last_code, updated_at = now()
       WHERE redemption.last_code IS DISTINCT FROM EXCLUDED.last_code`,
      [ticketHash, code],
    );
  }

  /** The tickets recorded paid by tx `chainTxId`. */
  async paidBy(chainTxId: string, trx?: DbTransaction): Promise<string[]> {
    const rows = await this.db(trx).query<{ ticket_hash: string }[]>(
      `SELECT ticket_hash FROM redemption WHERE chain_tx_id = $1 AND amount_paid IS NOT NULL`,
      [chainTxId],
    );
    return rows.map((r) => r.ticket_hash);
  }

  /**
   * Takes back what recordRedeemedAll wrote of tx `chainTxId` for these tickets (it was taken off the
   * chain): no tx, no amount paid, `code` as the reason; attempts stay.
   */
  async unrecordRedeemed(
    ticketHashes: readonly string[],
    chainTxId: string,
    code: string,
    trx: DbTransaction,
  ): Promise<void> {
    if (ticketHashes.length === 0) return;
    await trx.query(
      `UPDATE redemption SET chain_tx_id = NULL, amount_paid = NULL, redeemed_at = NULL, last_code = $3,
         updated_at = now()
       WHERE ticket_hash = ANY($1) AND chain_tx_id = $2`,
      [ticketHashes, chainTxId, code],
    );
  }

  /** Records every ticket a tx redeemed as paid by it, in one statement. */
  async recordRedeemedAll(
    redeemed: readonly { ticketHash: string; amountPaid: bigint }[],
    /** Null: paid by a tx not ours (its hash is the ticket's tx_hash). */
    chainTxId: string | null,
    trx?: DbTransaction,
  ): Promise<void> {
    if (redeemed.length === 0) return;
    await this.db(trx).query(
      `INSERT INTO redemption (ticket_hash, chain_tx_id, amount_paid, redeemed_at, last_code)
       SELECT h, $3::bigint, a::numeric, now(), NULL FROM unnest($1::text[], $2::text[]) AS x(h, a)
       ON CONFLICT (ticket_hash) DO UPDATE
         SET chain_tx_id = EXCLUDED.chain_tx_id, amount_paid = EXCLUDED.amount_paid,
             redeemed_at = EXCLUDED.redeemed_at, last_code = NULL, updated_at = now()`,
      [redeemed.map((r) => r.ticketHash), redeemed.map((r) => r.amountPaid.toString()), chainTxId],
    );
  }
}
