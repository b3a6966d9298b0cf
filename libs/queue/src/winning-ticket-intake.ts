import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { WinningTicketRepository, WinningTicketStatus, type NewWinningTicket } from '#app/database';
import { bytesToHex, ticketHash, type SignedTicket } from '#app/ticket';
import { RedemptionQueue } from './redemption-queue.js';
import { RedemptionReconciler } from './redemption-reconciler.js';

/** The intake's own safety net: how often it re-enqueues stored tickets whose job went missing. */
export interface IntakeOptions {
  reconcileIntervalMs: number;
}

export const INTAKE_OPTIONS = Symbol('INTAKE_OPTIONS');

/** Tickets looked at per intake pass; a larger backlog is worked off over the following passes. */
const INTAKE_PASS_LIMIT = 1_000;

export interface IntakeResult {
  ticketHash: string;
  /** False when the same ticket had been stored before: nothing was written twice. */
  stored: boolean;
}

/**
 * The one way a winning ticket enters the system (Recipient's ProcessPayment and the
 * SenderMonitor's QueueTicket): commit it to Postgres first, then enqueue its redemption. A
 * ticket is never only in Redis; if the enqueue fails (or Redis loses the job), the reconciler
 * finds it: the Redeemer's over every open ticket, and with `reconcileIntervalMs` the intake's
 * own over the tickets no worker has taken yet (`received`, `queued`), so a Recipient running
 * without a Redeemer still never leaves a stored winner without a job.
 */
@Injectable()
export class WinningTicketIntake implements OnApplicationBootstrap {
  private readonly logger = new Logger(WinningTicketIntake.name);
  private readonly requeuedListeners: ((count: number) => void)[] = [];

  constructor(
    private readonly tickets: WinningTicketRepository,
    private readonly queue: RedemptionQueue,
    private readonly reconciler: RedemptionReconciler,
    @Optional() @Inject(INTAKE_OPTIONS) private readonly options?: IntakeOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.options) return;
    this.reconciler.start({
      statuses: [WinningTicketStatus.RECEIVED, WinningTicketStatus.QUEUED],
      limit: INTAKE_PASS_LIMIT,
      intervalMs: this.options.reconcileIntervalMs,
      onRebuilt: (count) => this.requeuedListeners.forEach((listener) => listener(count)),
    });
  }

  /** Called with how many jobs a pass of the intake's reconciler re-created (for metrics). */
  onRequeued(listener: (count: number) => void): void {
    this.requeuedListeners.push(listener);
  }

  async accept(ticket: SignedTicket): Promise<IntakeResult> {
    return (await this.acceptAll([ticket]))[0];
  }

  /**
   * `accept` for a payment's winners: one INSERT for all of them (committed when it returns), then
   * one bulk enqueue. Idempotent by ticket hash like `accept`; one result per ticket, in order.
   */
  async acceptAll(tickets: readonly SignedTicket[]): Promise<IntakeResult[]> {
    if (tickets.length === 0) return [];
    const rows = tickets.map(toWinningTicketRow);
    // The same ticket twice in one payment is one row (and one job).
    const unique = [...new Map(rows.map((r) => [r.ticketHash, r])).values()];
    const inserted = await this.tickets.insertAllIfAbsent(unique);
    try {
      await this.queue.enqueueStoredAll(unique.map((r) => ({ ticketHash: r.ticketHash, sender: r.sender })));
    } catch (err) {
      // Stored is what matters for the caller's answer; the reconciler re-enqueues `received` rows.
      this.logger.error({
        msg: 'enqueue failed, left for the reconciler',
        ticketHashes: unique.map((r) => r.ticketHash),
        error: (err as Error).message,
      });
    }
    // A duplicate within the payment counts as stored once, at its first place.
    return rows.map((r) => ({ ticketHash: r.ticketHash, stored: inserted.delete(r.ticketHash) }));
  }
}

/** The row for a signed ticket: byte fields as 0x-prefixed lowercase hex, integers as bigint. */
export function toWinningTicketRow(t: SignedTicket): NewWinningTicket {
  return {
    ticketHash: bytesToHex(ticketHash(t)),
    recipient: bytesToHex(t.recipient),
    sender: bytesToHex(t.sender),
    faceValue: t.faceValue,
    winProb: t.winProb,
    senderNonce: BigInt(t.senderNonce),
    recipientRandHash: bytesToHex(t.recipientRandHash),
    creationRound: t.creationRound,
    creationRoundBlockHash: bytesToHex(t.creationRoundBlockHash),
    paramsExpirationBlock: t.paramsExpirationBlock,
    sig: bytesToHex(t.sig),
    recipientRand: t.recipientRand,
  };
}
