import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { QueueName, type RedeemTicketJob } from '#app/queue';
import { RecipientCountersSampler } from './recipient-counters.sampler.js';

const REDEMPTION_PURPOSES = ['redeem', 'batch-redeem'];
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

interface TotalsRow {
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

/**
 * Totals, time series, queue depth and failures, computed from Postgres (winning_ticket,
 * redemption, chain_tx), BullMQ and the sampled Recipient counters. Wei totals are exact
 * decimal strings; per-bucket series are too, except the sampled ones (floats, from Prometheus).
 */
@Injectable()
export class StatsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @InjectQueue(QueueName.TICKET_REDEMPTION) private readonly queue: Queue<RedeemTicketJob>,
    private readonly sampler: RecipientCountersSampler,
  ) {}

  async totals(recipient: string | undefined) {
    const [[t], gas] = await Promise.all([
      this.ds.query<TotalsRow[]>(
        `SELECT count(*)::int AS won, COALESCE(sum(w.face_value), 0)::text AS face_value_won,
                count(*) FILTER (WHERE w.status IN ('received','queued','submitting','submitted'))::int AS pending,
                COALESCE(sum(w.face_value) FILTER (WHERE w.status IN ('received','queued','submitting','submitted')), 0)::text AS face_value_pending,
                count(*) FILTER (WHERE w.status = 'redeemed')::int AS redeemed,
                COALESCE(sum(w.face_value) FILTER (WHERE w.status = 'redeemed'), 0)::text AS face_value_redeemed,
                count(*) FILTER (WHERE w.status = 'failed')::int AS failed,
                COALESCE(sum(w.face_value) FILTER (WHERE w.status = 'failed'), 0)::text AS face_value_failed,
                count(*) FILTER (WHERE w.status = 'expired')::int AS expired,
                COALESCE(sum(w.face_value) FILTER (WHERE w.status = 'expired'), 0)::text AS face_value_expired,
                COALESCE(sum(r.amount_paid) FILTER (WHERE w.status = 'redeemed'), 0)::text AS amount_paid
         FROM winning_ticket w LEFT JOIN redemption r ON r.ticket_hash = w.ticket_hash
         WHERE ($1::text IS NULL OR w.recipient = $1)`,
        [recipient ?? null],
      ),
      this.ds.query<{ purpose: string; txs: number; gas_used: string; cost: string }[]>(
        `SELECT purpose, count(*)::int AS txs, COALESCE(sum(gas_used), 0)::text AS gas_used,
                COALESCE(sum(gas_used * effective_gas_price), 0)::text AS cost
         FROM chain_tx WHERE gas_used IS NOT NULL GROUP BY purpose ORDER BY purpose`,
      ),
    ]);
    const sample = this.sampler.latest();
    const redemptionGas = gas.filter((g) => REDEMPTION_PURPOSES.includes(g.purpose));
    return {
      recipient: recipient ?? null,
      // EV is credited per ticket received, which only the Recipients count; without their metrics
      // the face value won is the estimate (its expectation equals the EV received).
      evReceived: sample
        ? { wei: BigInt(Math.round(sample.evReceivedWei)).toString(), source: 'recipient-metrics' as const }
        : { wei: t.face_value_won, source: 'winning-tickets-estimate' as const },
      ticketsReceived: sample ? sample.ticketsReceived : null,
      winning: { count: t.won, faceValue: t.face_value_won },
      pending: { count: t.pending, faceValue: t.face_value_pending },
      redeemed: { count: t.redeemed, faceValue: t.face_value_redeemed, amountPaid: t.amount_paid },
      failed: { count: t.failed, faceValue: t.face_value_failed },
      expired: { count: t.expired, faceValue: t.face_value_expired },
      gasSpent: {
        redemptionWei: redemptionGas.reduce((s, g) => s + BigInt(g.cost), 0n).toString(),
        totalWei: gas.reduce((s, g) => s + BigInt(g.cost), 0n).toString(),
        byPurpose: gas.map((g) => ({ purpose: g.purpose, txs: g.txs, gasUsed: g.gas_used, wei: g.cost })),
      },
    };
  }

  async timeseries(windowSeconds: number, bucketSeconds: number, recipient: string | undefined) {
    const now = Date.now();
    const end = Math.floor(now / 1000 / bucketSeconds) * bucketSeconds + bucketSeconds;
    const start = end - Math.ceil(windowSeconds / bucketSeconds) * bucketSeconds;
    const params = [start, bucketSeconds, recipient ?? null];
    const [won, redeemed] = await Promise.all([
      this.ds.query<{ t: string; n: number; fv: string }[]>(
        `SELECT (floor(extract(epoch FROM created_at) / $2) * $2)::bigint::text AS t, count(*)::int AS n,
                sum(face_value)::text AS fv
         FROM winning_ticket WHERE created_at >= to_timestamp($1) AND ($3::text IS NULL OR recipient = $3)
         GROUP BY 1`,
        params,
      ),
      this.ds.query<{ t: string; n: number; fv: string; paid: string }[]>(
        `SELECT (floor(extract(epoch FROM r.redeemed_at) / $2) * $2)::bigint::text AS t, count(*)::int AS n,
                sum(w.face_value)::text AS fv, COALESCE(sum(r.amount_paid), 0)::text AS paid
         FROM redemption r JOIN winning_ticket w ON w.ticket_hash = r.ticket_hash
         WHERE r.redeemed_at >= to_timestamp($1) AND w.status = 'redeemed' AND ($3::text IS NULL OR w.recipient = $3)
         GROUP BY 1`,
        params,
      ),
    ]);
    const byT = <R extends { t: string }>(rows: R[]) => new Map(rows.map((r) => [Number(r.t), r]));
    const wonAt = byT(won);
    const redeemedAt = byT(redeemed);
    const buckets = [];
    for (let t = start; t < end; t += bucketSeconds) {
      const received = this.sampledDelta(t * 1000, (t + bucketSeconds) * 1000, now);
      buckets.push({
        t: new Date(t * 1000).toISOString(),
        ticketsReceived: received?.tickets ?? null,
        evReceivedWei: received ? BigInt(Math.round(received.ev)).toString() : null,
        winning: wonAt.get(t)?.n ?? 0,
        faceValueWon: wonAt.get(t)?.fv ?? '0',
        redeemed: redeemedAt.get(t)?.n ?? 0,
        faceValueRedeemed: redeemedAt.get(t)?.fv ?? '0',
        amountPaid: redeemedAt.get(t)?.paid ?? '0',
      });
    }
    return { windowSeconds, bucketSeconds, sampled: this.sampler.enabled, buckets };
  }

  /** Growth of the sampled counters within [from, to); a counter that went down restarted. */
  private sampledDelta(from: number, to: number, now: number): { tickets: number; ev: number } | undefined {
    if (!this.sampler.enabled || from > now) return undefined;
    const inside = this.sampler.since(from).filter((s) => s.at < to);
    const base = this.sampler.before(from);
    if (inside.length === 0) return base ? { tickets: 0, ev: 0 } : undefined;
    let prev = base ?? inside[0];
    let tickets = 0;
    let ev = 0;
    for (const s of inside) {
      tickets +=
        s.ticketsReceived >= prev.ticketsReceived
          ? s.ticketsReceived - prev.ticketsReceived
          : s.ticketsReceived;
      ev += s.evReceivedWei >= prev.evReceivedWei ? s.evReceivedWei - prev.evReceivedWei : s.evReceivedWei;
      prev = s;
    }
    return { tickets, ev };
  }

  async queueDepth() {
    const [jobs, [db]] = await Promise.all([
      this.queue.getJobCounts(...QUEUE_STATES),
      this.ds.query<{ unclaimed: number; in_progress: number }[]>(
        `SELECT count(*) FILTER (WHERE status IN ('received','queued'))::int AS unclaimed,
                count(*) FILTER (WHERE status IN ('submitting','submitted'))::int AS in_progress
         FROM winning_ticket WHERE status IN ('received','queued','submitting','submitted')`,
      ),
    ]);
    const counts = Object.fromEntries(QUEUE_STATES.map((s) => [s, jobs[s] ?? 0])) as Record<
      (typeof QUEUE_STATES)[number],
      number
    >;
    return {
      queue: QueueName.TICKET_REDEMPTION,
      jobs: counts,
      tickets: { unclaimed: db.unclaimed, inProgress: db.in_progress },
    };
  }

  /** Failures by code in the window: final ones (failed/expired tickets) and open ones (waiting or retrying). */
  async failures(windowSeconds: number, limit: number) {
    const since = Math.floor(Date.now() / 1000) - windowSeconds;
    const [finals, retrying, recent] = await Promise.all([
      this.ds.query<{ code: string; status: string; n: number }[]>(
        `SELECT COALESCE(status_reason, 'UNKNOWN') AS code, status, count(*)::int AS n FROM winning_ticket
         WHERE status IN ('failed','expired') AND updated_at >= to_timestamp($1) GROUP BY 1, 2 ORDER BY n DESC, code`,
        [since],
      ),
      // Not final yet: why each ticket waits (the Redeemer's note on the ticket) or last failed.
      this.ds.query<{ code: string; n: number }[]>(
        `SELECT COALESCE(w.status_reason, r.last_code) AS code, count(*)::int AS n
         FROM winning_ticket w LEFT JOIN redemption r ON r.ticket_hash = w.ticket_hash
         WHERE w.status NOT IN ('redeemed','failed','expired') AND COALESCE(w.status_reason, r.last_code) IS NOT NULL
           AND GREATEST(w.updated_at, r.updated_at) >= to_timestamp($1)
         GROUP BY 1 ORDER BY n DESC, code`,
        [since],
      ),
      this.ds.query<
        {
          ticket_hash: string;
          status: string;
          code: string | null;
          sender: string;
          face_value: string;
          at: Date;
        }[]
      >(
        `SELECT ticket_hash, status, status_reason AS code, sender, face_value::text AS face_value, updated_at AS at
         FROM winning_ticket WHERE status IN ('failed','expired') AND updated_at >= to_timestamp($1)
         ORDER BY updated_at DESC LIMIT $2`,
        [since, limit],
      ),
    ]);
    return {
      windowSeconds,
      final: finals.map((f) => ({ code: f.code, status: f.status, count: f.n })),
      retrying: retrying.map((r) => ({ code: r.code, count: r.n })),
      recent: recent.map((r) => ({
        ticketHash: r.ticket_hash,
        status: r.status,
        code: r.code,
        sender: r.sender,
        faceValue: r.face_value,
        at: new Date(r.at).toISOString(),
      })),
    };
  }
}
