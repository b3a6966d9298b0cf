import { Injectable } from '@nestjs/common';
import { RemoteSenderMonitor, type MonitoredSender } from '#app/clients';
import { AppError } from '#app/common';
import { SenderSummaries, type SenderSummaryRow } from '#app/database';
import type { Page } from '../http/params.js';
import { OpsConfig } from '../ops.config.js';

/** Concurrent SenderInfo calls per request: the monitor answers from its cache, this bounds the burst. */
const MONITOR_CONCURRENCY = 8;

/**
 * Senders as the ops API shows them: what Postgres holds of their winning tickets, plus the
 * SenderMonitor's live view over gRPC (deposit, reserve, max float per recipient, validity).
 * The monitor being down degrades a sender to its Postgres figures with `monitorError` set.
 */
@Injectable()
export class SenderReads {
  constructor(
    private readonly summaries: SenderSummaries,
    private readonly monitor: RemoteSenderMonitor,
    private readonly config: OpsConfig,
  ) {}

  async list(page: Page) {
    const { rows, total } = await this.summaries.list(page);
    const senders = await mapBounded(rows, MONITOR_CONCURRENCY, (r) => this.describe(r.sender, r));
    return { total, ...page, senders };
  }

  async get(sender: string) {
    return this.describe(sender, await this.summaries.get(sender));
  }

  private async describe(sender: string, row: SenderSummaryRow | undefined) {
    let info: MonitoredSender | undefined;
    let monitorError: string | null = null;
    try {
      info = await this.monitor.senderInfo(sender);
    } catch (err) {
      monitorError = err instanceof AppError ? (err as AppError<string>).code : 'UNAVAILABLE';
    }
    const recipient = this.config.values.OPS_RECIPIENT_ADDRESS;
    const floats = info?.recipients ?? [];
    const primary = floats.find((r) => r.recipient === recipient) ?? floats[0];
    return {
      sender,
      tickets: { won: row?.won ?? 0, pending: row?.pending ?? 0, redeemed: row?.redeemed ?? 0 },
      faceValueWon: row?.face_value_won ?? '0',
      faceValuePending: row?.face_value_pending ?? '0',
      lastTicketAt: row ? new Date(row.last_ticket_at).toISOString() : null,
      monitorError,
      deposit: info?.info.deposit.toString() ?? null,
      reserve: info?.info.reserve.fundsRemaining.toString() ?? null,
      reserveClaimedThisRound: info?.info.reserve.claimedInCurrentRound.toString() ?? null,
      withdrawRound: info?.info.withdrawRound.toString() ?? null,
      maxFloat: primary?.maxFloat.toString() ?? null,
      valid: info ? info.validity.valid : null,
      invalidReason: info && !info.validity.valid ? (info.validity.errorCode ?? 'INVALID') : null,
      recipients: floats.map((r) => ({
        recipient: r.recipient,
        active: r.recipientActive,
        reserveAllocation: r.reserveAllocation.toString(),
        claimedReserve: r.claimedReserve.toString(),
        pending: r.pending.toString(),
        maxFloat: r.maxFloat.toString(),
      })),
      block: info?.block.toString() ?? null,
    };
  }
}

async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
