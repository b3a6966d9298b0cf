import { Counter, Gauge, type Registry } from 'prom-client';
import type { MetricsRegistry } from './metrics.js';

/** Names of the shared series that other services read back (the ops API sums them). */
export const TICKET_METRIC_NAMES = {
  ticketsRecv: 'ticketpay_tickets_recv_total',
  valueRecv: 'ticketpay_ticket_value_recv_wei',
} as const;

/**
 * Ticket metrics under the same names in every service, modelled on go-livepeer's
 * (`ticket_value_sent`, `tickets_sent`, `ticket_value_recv`, `tickets_recv`,
 * `winning_tickets_recv`, `value_redeemed`, `ticket_redemption_errors`, `max_float`, gas price).
 * Wei are exported as floats (Prometheus has no integers): dashboard figures, never accounting.
 * Labels are bounded: sender/recipient addresses a node deals with and stable error codes.
 */
export class TicketMetrics {
  readonly ticketsSent: Counter<'recipient'>;
  readonly valueSent: Counter<'recipient'>;
  readonly ticketsRecv: Counter<'sender'>;
  readonly valueRecv: Counter<'sender'>;
  readonly winningTicketsRecv: Counter<'sender'>;
  readonly valueRedeemed: Counter<'sender'>;
  readonly redemptionErrors: Counter<'code'>;
  readonly maxFloat: Gauge<'sender' | 'recipient'>;
  private readonly gasPrice: Gauge;
  private gasPriceSource?: () => bigint | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    this.ticketsSent = new Counter({
      name: 'ticketpay_tickets_sent_total',
      help: 'Tickets sent, by recipient',
      labelNames: ['recipient'],
      registers,
    });
    this.valueSent = new Counter({
      name: 'ticketpay_ticket_value_sent_wei',
      help: 'Expected value of the tickets sent, wei, by recipient',
      labelNames: ['recipient'],
      registers,
    });
    this.ticketsRecv = new Counter({
      name: TICKET_METRIC_NAMES.ticketsRecv,
      help: 'Valid tickets received, by sender',
      labelNames: ['sender'],
      registers,
    });
    this.valueRecv = new Counter({
      name: TICKET_METRIC_NAMES.valueRecv,
      help: 'Expected value of the valid tickets received, wei, by sender',
      labelNames: ['sender'],
      registers,
    });
    this.winningTicketsRecv = new Counter({
      name: 'ticketpay_winning_tickets_recv_total',
      help: 'Winning tickets received, by sender',
      labelNames: ['sender'],
      registers,
    });
    this.valueRedeemed = new Counter({
      name: 'ticketpay_value_redeemed_wei',
      help: 'Amount paid by the TicketBroker for redeemed tickets, wei, by sender',
      labelNames: ['sender'],
      registers,
    });
    this.redemptionErrors = new Counter({
      name: 'ticketpay_ticket_redemption_errors_total',
      help: 'Tickets whose redemption failed, by error code',
      labelNames: ['code'],
      registers,
    });
    this.maxFloat = new Gauge({
      name: 'ticketpay_max_float_wei',
      help: 'Max float of a sender for a recipient (may be negative), wei',
      labelNames: ['sender', 'recipient'],
      registers,
    });
    const gasPrice = () => this.gasPriceSource?.();
    this.gasPrice = new Gauge({
      name: 'ticketpay_gas_price_wei',
      help: 'Gas price the service works with, wei',
      registers,
      collect() {
        const v = gasPrice();
        if (v !== undefined) this.set(weiAsNumber(v));
      },
    });
  }

  sent(recipient: string, tickets: number, evWei: number): void {
    this.ticketsSent.inc({ recipient }, tickets);
    if (evWei > 0) this.valueSent.inc({ recipient }, evWei);
  }

  received(sender: string, tickets: number, evWei: number, winning: number): void {
    this.ticketsRecv.inc({ sender }, tickets);
    if (evWei > 0) this.valueRecv.inc({ sender }, evWei);
    if (winning > 0) this.winningTicketsRecv.inc({ sender }, winning);
  }

  redeemed(sender: string, amountPaid: bigint): void {
    this.valueRedeemed.inc({ sender }, weiAsNumber(amountPaid));
  }

  redemptionError(code: string): void {
    this.redemptionErrors.inc({ code });
  }

  setMaxFloat(sender: string, recipient: string, maxFloat: bigint): void {
    this.maxFloat.set({ sender, recipient }, weiAsNumber(maxFloat));
  }

  forgetMaxFloat(sender: string, recipient: string): void {
    this.maxFloat.remove({ sender, recipient });
  }

  /** Reads the gas price when Prometheus scrapes; undefined (unknown yet) keeps the last value. */
  gasPriceFrom(read: () => bigint | undefined): void {
    this.gasPriceSource = read;
    this.gasPrice.reset();
  }
}

const byRegistry = new WeakMap<Registry, TicketMetrics>();

/** The process registry's ticket metrics, registered on first use (one set per registry). */
export function ticketMetrics(metrics: MetricsRegistry): TicketMetrics {
  let m = byRegistry.get(metrics.registry);
  if (!m) {
    m = new TicketMetrics(metrics.registry);
    byRegistry.set(metrics.registry, m);
  }
  return m;
}

/** Wei as a float for a metric (exact up to 2^53, about 0.009 ETH; then ~15 significant digits). */
export function weiAsNumber(wei: bigint): number {
  return Number(wei);
}
