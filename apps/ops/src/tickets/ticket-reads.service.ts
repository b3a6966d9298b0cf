import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { FINAL_STATUSES, type WinningTicketStatus } from '#app/database';
import { groupOf, type Page } from '../http/params.js';
import { OpsConfig } from '../ops.config.js';
import { OpsError, OpsErrorCode } from '../ops.error.js';

export interface TicketFilter {
  statuses: WinningTicketStatus[];
  sender?: string;
  recipient?: string;
}

interface TicketRow {
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
  created_at: Date;
  updated_at: Date;
  attempts: number | null;
  last_code: string | null;
  amount_paid: string | null;
  redeemed_at: Date | null;
}

interface HistoryRow {
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

interface ChainTxRow {
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
  w.created_at, w.updated_at, r.attempts, r.last_code, r.amount_paid::text AS amount_paid, r.redeemed_at`;

const FILTER = `
  ($1::text[] IS NULL OR w.status = ANY($1::text[]))
  AND ($2::text IS NULL OR w.sender = $2) AND ($3::text IS NULL OR w.recipient = $3)`;

/**
 * Read-only views of `winning_ticket`, `redemption` and `chain_tx` (the Redeemer's tables).
 * Amounts leave as decimal wei strings; recipientRand and the sender's signature never leave.
 */
@Injectable()
export class TicketReads {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly config: OpsConfig,
  ) {}

  async list(filter: TicketFilter, page: Page) {
    const params = [
      filter.statuses.length > 0 ? filter.statuses : null,
      filter.sender ?? null,
      filter.recipient ?? null,
    ];
    const [rows, count] = await Promise.all([
      this.ds.query<TicketRow[]>(
        `SELECT ${TICKET_COLUMNS} FROM winning_ticket w LEFT JOIN redemption r ON r.ticket_hash = w.ticket_hash
         WHERE ${FILTER} ORDER BY w.created_at DESC, w.ticket_hash LIMIT $4 OFFSET $5`,
        [...params, page.limit, page.offset],
      ),
      this.ds.query<{ n: string }[]>(
        `SELECT count(*)::text AS n FROM winning_ticket w WHERE ${FILTER}`,
        params,
      ),
    ]);
    return { total: Number(count[0].n), ...page, tickets: rows.map((r) => this.ticketJson(r)) };
  }

  async get(ticketHash: string) {
    const rows = await this.ds.query<TicketRow[]>(
      `SELECT ${TICKET_COLUMNS} FROM winning_ticket w LEFT JOIN redemption r ON r.ticket_hash = w.ticket_hash
       WHERE w.ticket_hash = $1`,
      [ticketHash],
    );
    if (rows.length === 0)
      throw new OpsError(OpsErrorCode.TICKET_NOT_FOUND, `no winning ticket ${ticketHash}`);
    const txs = await this.ds.query<ChainTxRow[]>(
      `SELECT id::text AS id, purpose, status, nonce::text AS nonce, hashes, mined_hash, block_number::text AS block_number,
              gas_used::text AS gas_used, effective_gas_price::text AS effective_gas_price, error_code,
              cardinality(refs) AS tickets, created_at, finished_at
       FROM chain_tx WHERE $1 = ANY(refs) ORDER BY id`,
      [ticketHash],
    );
    return {
      ...this.ticketJson(rows[0]),
      transactions: txs.map((t) => ({
        id: t.id,
        purpose: t.purpose,
        status: t.status,
        nonce: t.nonce,
        hashes: t.hashes,
        minedHash: t.mined_hash,
        txUrl: this.txUrl(t.mined_hash ?? t.hashes.at(-1) ?? null),
        blockNumber: t.block_number,
        gasUsed: t.gas_used,
        effectiveGasPrice: t.effective_gas_price,
        gasCost: gasCost(t.gas_used, t.effective_gas_price),
        errorCode: t.error_code,
        tickets: t.tickets,
        createdAt: t.created_at.toISOString(),
        finishedAt: t.finished_at?.toISOString() ?? null,
      })),
    };
  }

  /** Tickets that reached a final status, newest outcome first, with the tx that redeemed them. */
  async history(filter: Omit<TicketFilter, 'statuses'>, page: Page) {
    const params = [FINAL_STATUSES, filter.sender ?? null, filter.recipient ?? null];
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
      this.ds.query<{ n: string }[]>(
        `SELECT count(*)::text AS n FROM winning_ticket w WHERE ${FILTER}`,
        params,
      ),
    ]);
    return {
      total: Number(count[0].n),
      ...page,
      redemptions: rows.map((r) => ({
        ticketHash: r.ticket_hash,
        outcome: r.status,
        reason: r.status_reason,
        sender: r.sender,
        recipient: r.recipient,
        faceValue: r.face_value,
        amountPaid: r.amount_paid,
        finishedAt: new Date(r.finished_at).toISOString(),
        txHash: r.tx_hash,
        txUrl: this.txUrl(r.tx_hash),
        blockNumber: r.block_number,
        txPurpose: r.purpose,
        ticketsInTx: r.tickets_in_tx,
        txGasCost: gasCost(r.gas_used, r.effective_gas_price),
      })),
    };
  }

  /** Explorer link of a tx (OPS_TX_URL_TEMPLATE), or null without a template or hash. */
  txUrl(hash: string | null): string | null {
    const template = this.config.values.OPS_TX_URL_TEMPLATE;
    return template && hash ? template.replace('{hash}', hash) : null;
  }

  private ticketJson(r: TicketRow) {
    return {
      ticketHash: r.ticket_hash,
      status: r.status,
      statusGroup: groupOf(r.status),
      statusReason: r.status_reason,
      txHash: r.tx_hash,
      txUrl: this.txUrl(r.tx_hash),
      sender: r.sender,
      recipient: r.recipient,
      faceValue: r.face_value,
      winProb: r.win_prob,
      senderNonce: r.sender_nonce,
      creationRound: r.creation_round,
      paramsExpirationBlock: r.params_expiration_block,
      attempts: r.attempts ?? 0,
      lastCode: r.last_code,
      amountPaid: r.amount_paid,
      redeemedAt: r.redeemed_at ? new Date(r.redeemed_at).toISOString() : null,
      createdAt: new Date(r.created_at).toISOString(),
      updatedAt: new Date(r.updated_at).toISOString(),
    };
  }
}

function gasCost(gasUsed: string | null, price: string | null): string | null {
  return gasUsed !== null && price !== null ? (BigInt(gasUsed) * BigInt(price)).toString() : null;
}
