import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { ChainWatcher } from '#app/chain';
import { MetricsRegistry, ticketMetrics, type TicketMetrics } from '#app/common';

/** One sender as the metrics show it. */
export interface SenderFigures {
  sender: string;
  deposit: bigint;
  reserve: bigint;
  valid: boolean;
  recipients: { recipient: string; maxFloat: bigint; pending: bigint }[];
}

/**
 * The SenderMonitor's Prometheus series. The max float and gas price are the shared ticket
 * metrics' (`ticketpay_max_float_wei`, `ticketpay_gas_price_wei`), not repeated under this
 * service's prefix. Amounts are floats of wei: for dashboards only, never for decisions. Chain
 * figures are read from the watcher at scrape time; per-sender series exist for tracked senders
 * only and are removed when a sender is evicted.
 */
@Injectable()
export class SenderMonitorMetrics {
  private readonly pending: Gauge<'sender' | 'recipient'>;
  private readonly deposit: Gauge<'sender'>;
  private readonly reserve: Gauge<'sender'>;
  private readonly valid: Gauge<'sender'>;
  readonly trackedSenders: Gauge;
  readonly subscriptions: Gauge;
  readonly queuedTickets: Counter<'outcome'>;
  readonly errors: Counter<'code'>;
  private readonly shown = new Map<string, string[]>();
  private readonly ticket: TicketMetrics;

  constructor(metrics: MetricsRegistry, watcher: ChainWatcher) {
    const registers = [metrics.registry];
    this.ticket = ticketMetrics(metrics);
    this.ticket.gasPriceFrom(() => (watcher.isSynced() ? watcher.gas.gasPrice() : undefined));
    this.pending = new Gauge({
      name: 'sender_monitor_pending_wei',
      help: 'Face value of tickets pending redemption per sender and recipient, wei',
      labelNames: ['sender', 'recipient'],
      registers,
    });
    this.deposit = new Gauge({
      name: 'sender_monitor_deposit_wei',
      help: 'Sender deposit, wei',
      labelNames: ['sender'],
      registers,
    });
    this.reserve = new Gauge({
      name: 'sender_monitor_reserve_wei',
      help: 'Sender reserve funds remaining, wei',
      labelNames: ['sender'],
      registers,
    });
    this.valid = new Gauge({
      name: 'sender_monitor_sender_valid',
      help: '1 while the sender may be paid from, 0 while its unlock is due (ValidateSender)',
      labelNames: ['sender'],
      registers,
    });
    this.trackedSenders = new Gauge({
      name: 'sender_monitor_tracked_senders',
      help: 'Senders being watched',
      registers,
    });
    this.subscriptions = new Gauge({
      name: 'sender_monitor_subscriptions',
      help: 'Open max float streams',
      registers,
    });
    this.queuedTickets = new Counter({
      name: 'sender_monitor_queued_tickets_total',
      help: 'QueueTicket calls by outcome (stored, duplicate, or an error code)',
      labelNames: ['outcome'],
      registers,
    });
    this.errors = new Counter({
      name: 'sender_monitor_errors_total',
      help: 'gRPC calls answered with an error, by error code',
      labelNames: ['code'],
      registers,
    });
    chainGauges(registers, watcher);
  }

  observeSender(f: SenderFigures): void {
    this.deposit.set({ sender: f.sender }, Number(f.deposit));
    this.reserve.set({ sender: f.sender }, Number(f.reserve));
    this.valid.set({ sender: f.sender }, f.valid ? 1 : 0);
    for (const r of f.recipients) {
      this.pending.set({ sender: f.sender, recipient: r.recipient }, Number(r.pending));
      this.ticket.setMaxFloat(f.sender, r.recipient, r.maxFloat);
    }
    this.shown.set(
      f.sender,
      f.recipients.map((r) => r.recipient),
    );
  }

  forgetSender(sender: string): void {
    for (const recipient of this.shown.get(sender) ?? []) {
      this.pending.remove({ sender, recipient });
      this.ticket.forgetMaxFloat(sender, recipient);
    }
    this.deposit.remove({ sender });
    this.reserve.remove({ sender });
    this.valid.remove({ sender });
    this.shown.delete(sender);
  }
}

/** Gauges read from the watcher when Prometheus scrapes. */
function chainGauges(registers: MetricsRegistry['registry'][], watcher: ChainWatcher): void {
  const head = () => (watcher.isSynced() ? watcher.head() : undefined);
  const gauge = (name: string, help: string, read: () => number | undefined) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const v = read();
        if (v === undefined) this.reset();
        else this.set(v);
      },
    });
  gauge('sender_monitor_current_round', 'Current round', () => num(head()?.rounds.currentRound));
  gauge('sender_monitor_last_initialized_round', 'Last initialized round', () =>
    num(head()?.rounds.lastInitializedRound),
  );
  gauge('sender_monitor_pool_size', 'Active transcoder pool size (reserve divisor)', () =>
    num(head()?.rounds.poolSize),
  );
  gauge('sender_monitor_synced_block', 'Block up to which chain events are applied', () =>
    num(head()?.block),
  );
  gauge('sender_monitor_l1_block', 'L1 block number of the synced head', () => num(head()?.l1Block));
  gauge(
    'sender_monitor_chain_head_lag_blocks',
    'Newest head reported by the RPC minus the synced block',
    () => {
      const s = watcher.status();
      return s.latestSeenBlock === undefined || s.syncedBlock === undefined
        ? undefined
        : Number(s.latestSeenBlock - s.syncedBlock);
    },
  );
  gauge('sender_monitor_chain_head_age_seconds', 'Seconds since the synced block last advanced', () => {
    const at = watcher.status().lastAdvanceAt;
    return at === undefined ? undefined : (Date.now() - at) / 1_000;
  });
  gauge(
    'sender_monitor_rpc_consecutive_failures',
    'Chain polls failed in a row',
    () => watcher.status().consecutiveFailures,
  );
  new Counter({
    name: 'sender_monitor_rpc_failures_total',
    help: 'Chain polls that failed',
    registers,
    collect() {
      this.reset();
      this.inc(watcher.status().totalFailures);
    },
  });
  new Counter({
    name: 'sender_monitor_chain_events_total',
    help: 'TicketBroker and RoundsManager events applied, by event',
    labelNames: ['event'],
    registers,
    collect() {
      this.reset();
      for (const [event, n] of Object.entries(watcher.status().events)) this.inc({ event }, n);
    },
  });
  new Counter({
    name: 'sender_monitor_resyncs_total',
    help: 'Full re-reads of the chain state, by reason (bootstrap, reorg, gap)',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(watcher.status().resyncs)) this.inc({ reason }, n);
    },
  });
}

const num = (v: bigint | undefined): number | undefined => (v === undefined ? undefined : Number(v));
