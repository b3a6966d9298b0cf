import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry, ticketMetrics, type TicketMetrics } from '#app/common';
import { WinningTicketIntake } from '#app/queue';
import type { Rational, RecoveryHelperCounts } from '#app/ticket';

/**
 * The Recipient's Prometheus series. Amount counters are floats of wei: fine for dashboards,
 * never used for accounting (balances are exact rationals in Redis). Accepted tickets, winners and
 * the EV credited are counted once, in the shared series (`shared`: ticketpay_tickets_recv_total,
 * ticketpay_winning_tickets_recv_total, ticketpay_ticket_value_recv_wei); the series here count
 * what those do not.
 */
@Injectable()
export class RecipientMetrics {
  /** The go-livepeer-style series every service shares. */
  readonly shared: TicketMetrics;
  readonly ticketsReceived: Counter<'sender'>;
  readonly errors: Counter<'code'>;
  readonly faceValueWon: Counter<'sender'>;
  readonly validationSeconds: Histogram;
  readonly paymentPhaseSeconds: Histogram<'phase'>;
  readonly batchPayments: Histogram;
  readonly paramsIssued: Counter;
  readonly reconcilerRequeued: Counter;
  readonly recoveryHelperJobs: Counter<'outcome'>;
  /** The recovery helper's counts, once PaymentService has one (read when Prometheus scrapes). */
  private helperCounts?: () => RecoveryHelperCounts;

  constructor(metrics: MetricsRegistry, intake: WinningTicketIntake) {
    this.shared = ticketMetrics(metrics);
    const registers = [metrics.registry];
    this.ticketsReceived = new Counter({
      name: 'recipient_tickets_received_total',
      help: 'Tickets received in payments with at least one good signature',
      labelNames: ['sender'],
      registers,
    });
    this.errors = new Counter({
      name: 'recipient_errors_total',
      help: 'Refused tickets and failed calls by error code',
      labelNames: ['code'],
      registers,
    });
    this.faceValueWon = new Counter({
      name: 'recipient_face_value_won_wei_total',
      help: 'Face value of accepted winning tickets, wei',
      labelNames: ['sender'],
      registers,
    });
    this.validationSeconds = new Histogram({
      name: 'recipient_payment_validation_seconds',
      help: 'Time to validate a payment (all its tickets), seconds',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.paymentPhaseSeconds = new Histogram({
      name: 'recipient_payment_phase_seconds',
      help: 'Wall time of each step of ProcessPayment (see PaymentPhase), seconds',
      labelNames: ['phase'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.batchPayments = new Histogram({
      name: 'recipient_payments_per_batch',
      help: 'Payments carried by one ProcessPayments call',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.paramsIssued = new Counter({
      name: 'recipient_params_issued_total',
      help: 'Ticket params issued',
      registers,
    });
    this.reconcilerRequeued = new Counter({
      name: 'recipient_reconciler_requeued_total',
      help: 'Stored winning tickets whose missing redemption job was enqueued again',
      registers,
    });
    intake.onRequeued((count) => this.reconcilerRequeued.inc(count));
    const helperCounts = () => this.helperCounts?.();
    this.recoveryHelperJobs = new Counter({
      name: 'recipient_recovery_helper_jobs_total',
      help:
        'Signature recoveries the helper thread took: helped = run there, ' +
        'redone = run again on the main thread because the helper had not finished them in time',
      labelNames: ['outcome'],
      registers,
      collect() {
        const counts = helperCounts();
        if (!counts) return;
        this.reset();
        this.inc({ outcome: 'helped' }, counts.helped);
        this.inc({ outcome: 'redone' }, counts.redone);
      },
    });
  }

  /** Reports the recovery helper's job counts from now on. */
  watchRecoveryHelper(counts: () => RecoveryHelperCounts): void {
    this.helperCounts = counts;
  }

  /** The recovery helper's job counts so far (a copy); undefined when there is no helper. */
  recoveryHelperCounts(): RecoveryHelperCounts | undefined {
    const counts = this.helperCounts?.();
    return counts && { ...counts };
  }

  /** A rational amount as a float, for counters only. */
  static approx(value: Rational): number {
    return Number(value.num) / Number(value.den);
  }
}

/**
 * Steps of a ProcessPayment, in order: `rate` the up-front rate check, `verify` the recipientRand
 * HMAC, shared checks and signatures, `checks` expiry, price and sender, `store` winners to
 * Postgres and the queue, `rider` preparing the credit (reading the balance when unknown), `record`
 * the nonce script with the credit, `settle` the balance after it (waiting for a pending credit to
 * be moved into the balance only when the script did not tell the whole balance), `credit` the
 * rate window and reading the balance when `settle` did not give it.
 */
export type PaymentPhase = 'rate' | 'verify' | 'checks' | 'store' | 'rider' | 'record' | 'settle' | 'credit';

/** Times a payment's steps back to back: each `lap` observes the time since the previous one. */
export class PhaseClock {
  private last = performance.now();

  constructor(private readonly histogram: Histogram<'phase'>) {}

  lap(phase: PaymentPhase): void {
    const now = performance.now();
    this.histogram.observe({ phase }, (now - this.last) / 1000);
    this.last = now;
  }
}
