import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { WinningTicketEntity, type WinningTicketStatus } from '../winning-ticket/winning-ticket.entity.js';
import { FINAL_STATUSES } from '../winning-ticket/winning-ticket.transitions.js';

export interface TicketFilter {
  /** Empty: every status. */
  statuses: readonly WinningTicketStatus[];
  sender?: string;
  recipient?: string;
}

export interface PageWindow {
  limit: number;
  offset: number;
}

/** A ticket with its redemption bookkeeping; amounts and integers as decimal strings. */
export interface TicketRow {
  ticket_hash: string;
  status: WinningTicketStatus;
  status_reason: string | null;
  tx_hash: string | null;
  sender: string;
  recipient: string;
  face_value: string;
  win_prob: string;
  sender_nonce: string;
  creation_round: string;
  params_expiration_block: string;
  reveal_block: string | null;
  created_at: Date;
  updated_at: Date;
  attempts: number | null;
  last_code: string | null;
  amount_paid: string | null;
  redeemed_at: Date | null;
}

/** A ticket that reached a final status, with the tx that redeemed it (if any). */
export interface HistoryRow {
  ticket_hash: string;
  status: WinningTicketStatus;
  status_reason: string | null;
  sender: string;
  recipient: string;
  face_value: string;
  amount_paid: string | null;
  finished_at: Date;
  tx_hash: string | null;
  block_number: string | null;
  gas_used: string | null;
  effective_gas_price: string | null;
  purpose: string | null;
  tickets_in_tx: number | null;
}

export interface TicketTxRow {
  id: string;
  purpose: string;
  status: string;
  nonce: string;
  hashes: string[];
  mined_hash: string | null;
  block_number: string | null;
  gas_used: string | null;
  effective_gas_price: string | null;
  error_code: string | null;
  tickets: number;
  created_at: Date;
  finished_at: Date | null;
}

const TICKET_COLUMNS = `
  w.ticket_hash, w.status, w.status_reason, w.tx_hash, w.sender, w.recipient,
  w.face_value::text AS face_value, w.win_prob::text AS win_prob, w.sender_nonce::text AS sender_nonce,
  w.creation_round::text AS creation_round, w.params_expiration_block::text AS params_expiration_block,
  w.reveal_block::text AS reveal_block, w.created_at, w.updated_at, r.attempts, r.last_code, r.amount_paid::text AS amount_paid, r.redeemed_at`;

const FILTER = `
  ($1::text[] IS NULL OR w.status = ANY($1::text[]))
  AND ($2::text IS NULL OR w.sender = $2) AND ($3::text IS NULL OR w.recipient = $3)`;

/**
 * Read model of winning tickets for operators (ops API, CLI): lists, one ticket with its txs, and
 * the history of final outcomes, over `winning_ticket`, `redemption` and `chain_tx`. Read-only;
 * status changes go through WinningTicketRepository.
 */
@Injectable()
export class TicketQueries {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Newest first, with the total matching `filter`. */
  async list(filter: TicketFilter, page: PageWindow): Promise<{ rows: TicketRow[]; total: number }> {
    const params = filterParams(filter);
    const [rows, count] = await Promise.all([
      this.ds.query<TicketRow[]>(
        `SELECT ${TICKET_COLUMNS} FROM winning_ticket w LEFT JOIN redemption r ON r.ticket_hash = w.ticket_hash
         WHERE ${FILTER} ORDER BY w.created_at DESC, w.ticket_hash LIMIT $4 OFFSET $5`,
        [...params, page.limit, page.offset],
      ),
      this.count(params),
    ]);
    return { rows, total: count };
  }

  async get(ticketHash: string): Promise<TicketRow | undefined> {
    const rows = await this.ds.query<TicketRow[]>(
      `SELECT ${TICKET_COLUMNS} FROM winning_ticket w LEFT JOIN redemption r ON r.ticket_hash = w.ticket_hash
       WHERE w.ticket_hash = $1`,
      [ticketHash],
    );
    return rows[0];
  }

  /** Every tx that carried the ticket, oldest first. */
  transactionsOf(ticketHash: string): Promise<TicketTxRow[]> {
    return this.ds.query<TicketTxRow[]>(
      `SELECT id::text AS id, purpose, status, nonce::text AS nonce, hashes, mined_hash, block_number::text AS block_number,
              gas_used::text AS gas_used, effective_gas_price::text AS effective_gas_price, error_code,
              cardinality(refs) AS tickets, created_at, finished_at
       FROM chain_tx WHERE $1 = ANY(refs) ORDER BY id`,
      [ticketHash],
    );
  }

  /** Tickets that reached a final status, newest outcome first, with the tx that redeemed them. */
  async history(
    filter: Omit<TicketFilter, 'statuses'>,
    page: PageWindow,
  ): Promise<{ rows: HistoryRow[]; total: number }> {
    const params = filterParams({ ...filter, statuses: FINAL_STATUSES });
    const [rows, count] = await Promise.all([
      this.ds.query<HistoryRow[]>(
        `SELECT w.ticket_hash, w.status, w.status_reason, w.sender, w.recipient, w.face_value::text AS face_value,
                r.amount_paid::text AS amount_paid, COALESCE(r.redeemed_at, w.updated_at) AS finished_at,
                COALESCE(t.mined_hash, w.tx_hash) AS tx_hash, t.block_number::text AS block_number,
                t.gas_used::text AS gas_used, t.effective_gas_price::text AS effective_gas_price, t.purpose,
                cardinality(t.refs) AS tickets_in_tx
         FROM winning_ticket w
         LEFT JOIN redemption r ON r.ticket_hash = w.ticket_hash
         LEFT JOIN chain_tx t ON t.id = r.chain_tx_id
         WHERE ${FILTER}
         ORDER BY finished_at DESC, w.ticket_hash LIMIT $4 OFFSET $5`,
        [...params, page.limit, page.offset],
      ),
      this.count(params),
    ]);
    return { rows, total: count };
  }

  /** Whole entities, newest first (the CLI's listing), with the total matching `filter`. */
  async entities(
    filter: TicketFilter,
    limit: number,
  ): Promise<{ rows: WinningTicketEntity[]; total: number }> {
    const [rows, total] = await this.ds.getRepository(WinningTicketEntity).findAndCount({
      where: {
        ...(filter.statuses.length > 0 ? { status: In([...filter.statuses]) } : {}),
        ...(filter.sender ? { sender: filter.sender } : {}),
        ...(filter.recipient ? { recipient: filter.recipient } : {}),
      },
      order: { createdAt: 'DESC' },
      take: limit,
    });
    return { rows, total };
  }

  private async count(params: unknown[]): Promise<number> {
    const rows = await this.ds.query<{ n: string }[]>(
      `SELECT count(*)::text AS n FROM winning_ticket w WHERE ${FILTER}`,
      params,
    );
    return Number(rows[0].n);
  }
}

function filterParams(filter: TicketFilter): unknown[] {
  return [
    filter.statuses.length > 0 ? filter.statuses : null,
    filter.sender ?? null,
    filter.recipient ?? null,
  ];
}
