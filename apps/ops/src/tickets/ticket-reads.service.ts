import { Injectable } from '@nestjs/common';
import { TicketQueries, type TicketFilter, type TicketRow } from '#app/database';
import { groupOf, type Page } from '../http/params.js';
import { OpsConfig } from '../ops.config.js';
import { OpsError, OpsErrorCode } from '../ops.error.js';

/**
 * Ticket views of the ops API over the database's TicketQueries read model.
 * Amounts leave as decimal wei strings; recipientRand and the sender's signature never leave.
 */
@Injectable()
export class TicketReads {
  constructor(
    private readonly queries: TicketQueries,
    private readonly config: OpsConfig,
  ) {}

  async list(filter: TicketFilter, page: Page) {
    const { rows, total } = await this.queries.list(filter, page);
    return { total, ...page, tickets: rows.map((r) => this.ticketJson(r)) };
  }

  async get(ticketHash: string) {
    const row = await this.queries.get(ticketHash);
    if (!row) throw new OpsError(OpsErrorCode.TICKET_NOT_FOUND, `no winning ticket ${ticketHash}`);
    const txs = await this.queries.transactionsOf(ticketHash);
    return {
      ...this.ticketJson(row),
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
    const { rows, total } = await this.queries.history(filter, page);
    return {
      total,
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
      revealBlock: r.reveal_block,
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
