import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsRegistry, ticketMetrics, type TicketMetrics } from '#app/common';
import type { Rational } from '#app/ticket';

/**
 * The Sender's Prometheus series. Labels are bounded: sender (accounts on this node), recipient
 * (orchestrators paid), method and error code (enums). EV is exported as a float of wei: fine for
 * dashboards, never used for accounting.
 */
@Injectable()
export class SenderMetrics {
  private readonly ticketsSent: Counter<'sender' | 'recipient'>;
  private readonly sessionsStarted: Counter<'sender' | 'outcome'>;
  private readonly sessionsEnded: Counter<'sender'>;
  private readonly errors: Counter<'method' | 'domain' | 'code'>;
  private readonly batchSeconds: Histogram;
  readonly accounts: Gauge;
  private readonly ticket: TicketMetrics;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.ticket = ticketMetrics(metrics);
    this.ticketsSent = new Counter({
      name: 'ticketpay_sender_tickets_sent_total',
      help: 'Tickets signed and returned to callers',
      labelNames: ['sender', 'recipient'],
      registers,
    });
    this.sessionsStarted = new Counter({
      name: 'ticketpay_sender_sessions_started_total',
      help: 'StartSession calls that opened (created) or resumed a session',
      labelNames: ['sender', 'outcome'],
      registers,
    });
    this.sessionsEnded = new Counter({
      name: 'ticketpay_sender_sessions_ended_total',
      help: 'Sessions ended by EndSession',
      labelNames: ['sender'],
      registers,
    });
    this.errors = new Counter({
      name: 'ticketpay_sender_errors_total',
      help: 'Failed calls by method (gRPC methods, remote signer endpoints) and error code',
      labelNames: ['method', 'domain', 'code'],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'ticketpay_sender_batch_duration_seconds',
      help: 'Time to validate, allocate nonces for and sign one batch',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.accounts = new Gauge({
      name: 'ticketpay_sender_accounts',
      help: 'Sender accounts loaded on this node',
      registers,
    });
  }

  /** `ticketEVWei` from evWei: a session's, converted once rather than per batch. */
  batchSent(sender: string, recipient: string, tickets: number, ticketEVWei: number, seconds: number): void {
    this.ticketsSent.inc({ sender, recipient }, tickets);
    this.ticket.sent(recipient, tickets, ticketEVWei * tickets);
    this.batchSeconds.observe(seconds);
  }

  sessionStarted(sender: string, outcome: 'created' | 'resumed'): void {
    this.sessionsStarted.inc({ sender, outcome });
  }

  sessionEnded(sender: string): void {
    this.sessionsEnded.inc({ sender });
  }

  error(method: string, domain: string, code: string): void {
    this.errors.inc({ method, domain, code });
  }
}

/** A ticket's EV as the float of wei the EV series add up (to 6 decimals; dashboards only). */
export function evWei(ticketEV: Rational): number {
  return Number(ticketEV.toDecimalString(6));
}
