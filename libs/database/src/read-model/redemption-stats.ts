import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../data-source.js';
import { WinningTicketStatus } from '../winning-ticket/winning-ticket.entity.js';
import {
  FINAL_STATUSES,
  IN_TX_STATUSES,
  OPEN_STATUSES,
  UNCLAIMED_STATUSES,
  UNPAID_FINAL_STATUSES,
} from '../winning-ticket/winning-ticket.transitions.js';
import { statusList } from './status-sql.js';

// The status groups of the state machine, as the SQL below filters by them.
const OPEN = statusList(OPEN_STATUSES);
const FINAL = statusList(FINAL_STATUSES);
const IN_TX = statusList(IN_TX_STATUSES);
const UNCLAIMED = statusList(UNCLAIMED_STATUSES);
const UNPAID = statusList(UNPAID_FINAL_STATUSES);
const { REDEEMED, FAILED, EXPIRED } = WinningTicketStatus;

/** Counts and exact decimal wei sums of winning tickets by outcome. */
export interface TotalsRow {
  won: number;
  face_value_won: string;
  pending: number;
  face_value_pending: string;
  redeemed: number;
  face_value_redeemed: string;
  failed: number;
  face_value_failed: string;
  expired: number;
  face_value_expired: string;
  amount_paid: string;
}

export interface GasRow {
  purpose: string;
  txs: number;
  gas_used: string;
  cost: string;
}

/** One time bucket (`t`: its start, epoch seconds). */
export interface BucketRow {
  t: string;
  n: number;
  fv: string;
}

export interface FailureRow {
  ticket_hash: string;
  status: string;
  code: string | null;
  sender: string;
  face_value: string;
  at: Date;
}

/**
 * Read model of redemption outcomes (ops API totals, time series, queue and failures; the
 * Redeemer's status): aggregates over `winning_ticket`, `redemption` and `chain_tx`. Read-only.
 */
@Injectable()
export class RedemptionStats {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async totals(recipient: string | undefined): Promise<TotalsRow> {
    const [t] = await this.ds.query<TotalsRow[]>(
      `SELECT count(*)::int AS won, COALESCE(sum(w.face_value), 0)::text AS face_value_won,
              count(*) FILTER (WHERE w.status IN (${OPEN}))::int AS pending,
              COALESCE(sum(w.face_value) FILTER (WHERE w.status IN (${OPEN})), 0)::text AS face_value_pending,
              count(*) FILTER (WHERE w.status = '${REDEEMED}')::int AS redeemed,
              COALESCE(sum(w.face_value) FILTER (WHERE w.status = '${REDEEMED}'), 0)::text AS face_value_redeemed,
              count(*) FILTER (WHERE w.status = '${FAILED}')::int AS failed,
              COALESCE(sum(w.face_value) FILTER (WHERE w.status = '${FAILED}'), 0)::text AS face_value_failed,
              count(*) FILTER (WHERE w.status = '${EXPIRED}')::int AS expired,
              COALESCE(sum(w.face_value) FILTER (WHERE w.status = '${EXPIRED}'), 0)::text AS face_value_expired,
              COALESCE(sum(r.amount_paid) FILTER (WHERE w.status = '${REDEEMED}'), 0)::text AS amount_paid
       FROM winning_ticket w LEFT JOIN redemption r ON r.ticket_hash = w.ticket_hash
       WHERE ($1::text IS NULL OR w.recipient = $1)`,
      [recipient ?? null],
    );
    return t;
  }

  /** Gas used and paid by mined txs, per purpose. */
  gasByPurpose(): Promise<GasRow[]> {
    return this.ds.query<GasRow[]>(
      `SELECT purpose, count(*)::int AS txs, COALESCE(sum(gas_used), 0)::text AS gas_used,
              COALESCE(sum(gas_used * effective_gas_price), 0)::text AS cost
       FROM chain_tx WHERE gas_used IS NOT NULL GROUP BY purpose ORDER BY purpose`,
    );
  }

  /** Tickets won per bucket of `bucketSeconds` since `start` (epoch seconds). */
  wonPerBucket(start: number, bucketSeconds: number, recipient: string | undefined): Promise<BucketRow[]> {
    return this.ds.query<BucketRow[]>(
      `SELECT (floor(extract(epoch FROM created_at) / $2) * $2)::bigint::text AS t, count(*)::int AS n,
              sum(face_value)::text AS fv
       FROM winning_ticket WHERE created_at >= to_timestamp($1) AND ($3::text IS NULL OR recipient = $3)
       GROUP BY 1`,
      [start, bucketSeconds, recipient ?? null],
    );
  }

  /** Tickets redeemed per bucket, with what the TicketBroker paid. */
  redeemedPerBucket(
    start: number,
    bucketSeconds: number,
    recipient: string | undefined,
  ): Promise<(BucketRow & { paid: string })[]> {
    return this.ds.query<(BucketRow & { paid: string })[]>(
      `SELECT (floor(extract(epoch FROM r.redeemed_at) / $2) * $2)::bigint::text AS t, count(*)::int AS n,
              sum(w.face_value)::text AS fv, COALESCE(sum(r.amount_paid), 0)::text AS paid
       FROM redemption r JOIN winning_ticket w ON w.ticket_hash = r.ticket_hash
       WHERE r.redeemed_at >= to_timestamp($1) AND w.status = '${REDEEMED}' AND ($3::text IS NULL OR w.recipient = $3)
       GROUP BY 1`,
      [start, bucketSeconds, recipient ?? null],
    );
  }

  /** Tickets no tx has taken yet (received, queued) and those in a tx (submitting, submitted). */
  async inQueue(): Promise<{ unclaimed: number; inProgress: number }> {
    const [db] = await this.ds.query<{ unclaimed: number; in_progress: number }[]>(
      `SELECT count(*) FILTER (WHERE status IN (${UNCLAIMED}))::int AS unclaimed,
              count(*) FILTER (WHERE status IN (${IN_TX}))::int AS in_progress
       FROM winning_ticket WHERE status IN (${OPEN})`,
    );
    return { unclaimed: db.unclaimed, inProgress: db.in_progress };
  }

  /** Final failures (failed/expired) since `since` (epoch seconds), by code and status. */
  finalFailures(since: number): Promise<{ code: string; status: string; n: number }[]> {
    return this.ds.query<{ code: string; status: string; n: number }[]>(
      `SELECT COALESCE(status_reason, 'UNKNOWN') AS code, status, count(*)::int AS n FROM winning_ticket
       WHERE status IN (${UNPAID}) AND updated_at >= to_timestamp($1) GROUP BY 1, 2 ORDER BY n DESC, code`,
      [since],
    );
  }

  /** Not final yet: why each ticket waits (the Redeemer's note on the ticket) or last failed. */
  openFailures(since: number): Promise<{ code: string; n: number }[]> {
    return this.ds.query<{ code: string; n: number }[]>(
      `SELECT COALESCE(w.status_reason, r.last_code) AS code, count(*)::int AS n
       FROM winning_ticket w LEFT JOIN redemption r ON r.ticket_hash = w.ticket_hash
       WHERE w.status NOT IN (${FINAL}) AND COALESCE(w.status_reason, r.last_code) IS NOT NULL
         AND GREATEST(w.updated_at, r.updated_at) >= to_timestamp($1)
       GROUP BY 1 ORDER BY n DESC, code`,
      [since],
    );
  }

  /** The newest final failures since `since`. */
  recentFailures(since: number, limit: number): Promise<FailureRow[]> {
    return this.ds.query<FailureRow[]>(
      `SELECT ticket_hash, status, status_reason AS code, sender, face_value::text AS face_value, updated_at AS at
       FROM winning_ticket WHERE status IN (${UNPAID}) AND updated_at >= to_timestamp($1)
       ORDER BY updated_at DESC LIMIT $2`,
      [since, limit],
    );
  }

  /** Ticket counts per status, optionally only those paying `recipients`. */
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
}

/**
 * The read model on a connection of its own (one pooled connection), for a process outside the
 * services' Nest containers (the local stack's progress line). `close` ends the connection.
 */
export async function openRedemptionStats(
  url: string,
): Promise<{ stats: RedemptionStats; close: () => Promise<void> }> {
  const ds = await new DataSource({
    ...dataSourceOptions(url),
    logging: false,
    extra: { max: 1 },
  }).initialize();
  return { stats: new RedemptionStats(ds), close: () => ds.destroy() };
}
