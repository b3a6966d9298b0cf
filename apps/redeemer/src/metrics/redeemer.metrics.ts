import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { ChainTxRecord } from '#app/chain';
import { MetricsRegistry, ticketMetrics, withTimeout, type TicketMetrics } from '#app/common';
import { JOB_STATES, RedemptionQueue } from '#app/queue';

const SCRAPE_TIMEOUT_MS = 1_000;

/**
 * The Redeemer's Prometheus metrics. Wei amounts are exported as floats (Prometheus has no
 * integers): exact to about 15 significant digits, which is what a dashboard needs; the exact
 * figures are in Postgres.
 */
@Injectable()
export class RedeemerMetrics {
  /** The go-livepeer-style series every service shares. */
  readonly shared: TicketMetrics;
  readonly outcomes: Counter<'status' | 'code'>;
  readonly waits: Counter<'code'>;
  readonly retries: Counter<'code'>;
  readonly faceValueRedeemed: Counter;
  readonly amountPaid: Counter;
  readonly gasUsed: Counter<'purpose'>;
  readonly txFees: Counter<'purpose'>;
  readonly txs: Counter<'purpose' | 'status'>;
  readonly txLatency: Histogram<'purpose'>;
  readonly replacements: Counter;
  readonly receiptsLost: Counter<'outcome'>;
  readonly reopened: Counter;
  readonly roundEndHolds: Counter;
  readonly blockSpaceWaits: Counter;
  readonly roundEndMargin: Gauge;
  readonly batchSize: Histogram;
  readonly reconciled: Counter;
  readonly recipientConflicts: Gauge;

  constructor(metrics: MetricsRegistry, queue: RedemptionQueue) {
    this.shared = ticketMetrics(metrics);
    const registers = [metrics.registry];
    new Gauge({
      name: 'redeemer_queue_jobs',
      help: 'Redemption jobs by BullMQ state',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await withTimeout(queue.counts(JOB_STATES), SCRAPE_TIMEOUT_MS, 'timeout').catch(
          () => null,
        );
        if (!counts) return;
        for (const state of JOB_STATES) this.set({ state }, counts[state] ?? 0);
      },
    });
    this.outcomes = new Counter({
      name: 'redeemer_ticket_outcomes_total',
      help: 'Tickets that reached a final status (redeemed, failed, expired), by reason code',
      labelNames: ['status', 'code'],
      registers,
    });
    this.waits = new Counter({
      name: 'redeemer_ticket_waits_total',
      help: 'Checks that left a ticket waiting (params not expired, funds, gas), by reason code',
      labelNames: ['code'],
      registers,
    });
    this.retries = new Counter({
      name: 'redeemer_retries_total',
      help: 'Retryable redemption failures, by reason code',
      labelNames: ['code'],
      registers,
    });
    this.faceValueRedeemed = new Counter({
      name: 'redeemer_face_value_redeemed_wei_total',
      help: 'Face value of redeemed tickets (wei)',
      registers,
    });
    this.amountPaid = new Counter({
      name: 'redeemer_amount_paid_wei_total',
      help: 'Amount the TicketBroker paid the recipients for redeemed tickets (wei); below face value when senders ran short',
      registers,
    });
    this.gasUsed = new Counter({
      name: 'redeemer_gas_used_total',
      help: 'Gas used by mined or reverted transactions',
      labelNames: ['purpose'],
      registers,
    });
    this.txFees = new Counter({
      name: 'redeemer_tx_fees_wei_total',
      help: 'Fees paid for mined or reverted transactions (wei)',
      labelNames: ['purpose'],
      registers,
    });
    this.txs = new Counter({
      name: 'redeemer_transactions_total',
      help: 'Transactions that reached a final status',
      labelNames: ['purpose', 'status'],
      registers,
    });
    this.txLatency = new Histogram({
      name: 'redeemer_tx_latency_seconds',
      help:
        'From signing to final (confirmed) status; for a tx reopened after a reorganisation, from its ' +
        'reopening when the same process follows it to the end',
      labelNames: ['purpose'],
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
      registers,
    });
    this.replacements = new Counter({
      name: 'redeemer_tx_replacements_total',
      help: 'Stuck transactions replaced at the same nonce with bumped fees',
      registers,
    });
    this.receiptsLost = new Counter({
      name: 'redeemer_tx_receipts_lost_total',
      help:
        'Mined redemption txs whose receipt no node gave long after their block (reorged out, or not ' +
        'indexed): settled from the broker logs and usedTickets; outcome mined (our tx found in the ' +
        'logs) or dropped. Any increase deserves a look',
      labelNames: ['outcome'],
      registers,
    });
    this.reopened = new Counter({
      name: 'redeemer_tickets_reopened_total',
      help:
        'Redeemed tickets whose tx a reorganisation deeper than the confirmations took off the chain: ' +
        'back in their tx, settled afresh, and then counted again by the outcome, face value and ' +
        'amount paid series (subtract these for the net). Any increase deserves a look',
      registers,
    });
    this.roundEndHolds = new Counter({
      name: 'redeemer_round_end_holds_total',
      help:
        'Redemption txs not sent because the round was ending (they would revert in the next round ' +
        'until it is initialized); their tickets wait with ROUND_ENDING',
      registers,
    });
    this.blockSpaceWaits = new Counter({
      name: 'redeemer_block_space_waits_total',
      help:
        "Redemption groups that waited before their claim because the signer's unmined txs were " +
        'expected to use a block of gas already (winners are coming faster than the chain takes them)',
      registers,
    });
    this.roundEndMargin = new Gauge({
      name: 'redeemer_round_end_margin_blocks',
      help:
        'L1 blocks before a round ends in which no redemption tx is sent: REDEEMER_ROUND_END_MARGIN_BLOCKS, ' +
        "or the most L1 blocks a recent redemption tx took from its send's head to being mined",
      registers,
    });
    this.batchSize = new Histogram({
      name: 'redeemer_tickets_per_tx',
      help: 'Tickets per redemption transaction',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    });
    this.reconciled = new Counter({
      name: 'redeemer_jobs_rebuilt_total',
      help: 'Redemption jobs the reconciler re-created from Postgres',
      registers,
    });
    this.recipientConflicts = new Gauge({
      name: 'redeemer_recipient_conflicts',
      help: 'Recipients of REDEEMER_RECIPIENTS (or * for all) another redeemer serves; above 0 this redeemer serves nothing',
      registers,
    });
  }

  /** `since`: when the tx was signed, or reopened after a reorganisation (TxManagerEvents.finished). */
  txFinished(record: ChainTxRecord, since: Date): void {
    this.txs.inc({ purpose: record.purpose, status: record.status });
    if (record.gasUsed !== null) {
      this.gasUsed.inc({ purpose: record.purpose }, Number(record.gasUsed));
      if (record.effectiveGasPrice !== null) {
        this.txFees.inc({ purpose: record.purpose }, Number(record.gasUsed * record.effectiveGasPrice));
      }
    }
    // Now: the event comes as the tx is recorded final. `since` is on this process's clock too, but
    // for a tx it took over at start (from its row's creation time, on the database's clock).
    this.txLatency.observe({ purpose: record.purpose }, (Date.now() - since.getTime()) / 1000);
  }
}
