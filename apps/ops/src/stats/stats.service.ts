import { Injectable } from '@nestjs/common';
import { isRedemptionTx } from '#app/chain';
import { RedemptionStats } from '#app/database';
import { JOB_STATES, QueueName, RedemptionQueue } from '#app/queue';
import { RecipientCountersSampler } from './recipient-counters.sampler.js';

/**
 * Totals, time series, queue depth and failures, computed from Postgres (the RedemptionStats
 * read model), BullMQ and the sampled Recipient counters. Wei figures are decimal strings, exact
 * except the EV received from the Recipients' counters (Prometheus floats, summed and rounded to
 * wei: about 15 significant digits); the API's schema says so.
 */
@Injectable()
export class StatsService {
  constructor(
    private readonly stats: RedemptionStats,
    private readonly queue: RedemptionQueue,
    private readonly sampler: RecipientCountersSampler,
  ) {}

  async totals(recipient: string | undefined) {
    const [t, gas] = await Promise.all([this.stats.totals(recipient), this.stats.gasByPurpose()]);
    const sample = this.sampler.latest();
    const redemptionGas = gas.filter((g) => isRedemptionTx(g.purpose));
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
    const [won, redeemed] = await Promise.all([
      this.stats.wonPerBucket(start, bucketSeconds, recipient),
      this.stats.redeemedPerBucket(start, bucketSeconds, recipient),
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
    const [jobs, tickets] = await Promise.all([this.queue.counts(JOB_STATES), this.stats.inQueue()]);
    return {
      queue: QueueName.TICKET_REDEMPTION,
      jobs,
      tickets,
    };
  }

  /** Failures by code in the window: final ones (failed/expired tickets) and open ones (waiting or retrying). */
  async failures(windowSeconds: number, limit: number) {
    const since = Math.floor(Date.now() / 1000) - windowSeconds;
    const [finals, retrying, recent] = await Promise.all([
      this.stats.finalFailures(since),
      this.stats.openFailures(since),
      this.stats.recentFailures(since, limit),
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
