import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  concatMap,
  defer,
  EMPTY,
  filter,
  finalize,
  from,
  map,
  merge,
  of,
  Subject,
  throwError,
  catchError,
  type Observable,
  type Subscription,
} from 'rxjs';
import { ChainWatcher, claimsOfRound, type CachedSender, type ChainHead, type ChainUpdate } from '#app/chain';
import {
  SenderMonitorError,
  SenderMonitorErrorCode,
  type MaxFloatChange,
  type MaxFloatChangeReason,
  type MonitoredSender,
  type SenderValidity,
} from '#app/clients';
import { AppError } from '#app/common';
import { WinningTicketIntake, type IntakeResult } from '#app/queue';
import {
  bytesToHex,
  isUnlockingSoon,
  MAX_INT64,
  maxFloat,
  parseAddress,
  reserveAllocation,
  SenderMonitor,
  senderUnlockingError,
  TicketError,
  TicketErrorCode,
  toChecksumAddress,
  validateWinningTicket,
  type SenderInfo,
  type SignedTicket,
} from '#app/ticket';
import { SenderMonitorMetrics } from '../metrics/sender-monitor.metrics.js';
import { NewWinnersListener, type NewWinners } from './new-winners-listener.js';
import { PendingRedemptions, type PendingAmounts } from './pending-redemptions.js';
import { SENDER_MONITOR_OPTIONS, type SenderMonitorOptions } from './sender-monitor.options.js';

/** Which senders' max float may have moved, and why. */
interface Change {
  senders: ReadonlySet<string> | 'all';
  reason: Exclude<MaxFloatChangeReason, 'INITIAL' | 'REASON_UNSPECIFIED'>;
}

/**
 * The SenderMonitor (PROTOCOL.md §8): for every sender the served recipients deal with, the max
 * float each recipient can still safely accept and whether the sender is usable, from the chain
 * watcher's event-fed cache and the pending face value in Postgres. Changes are pushed to
 * subscribers when a TicketBroker event, a new round, a pool change or a pending change may have
 * moved them; subscribers see only actual changes. Pending face value is re-read every poll, and
 * at once for the senders of new winners (notified by Postgres: the Recipient's intake stores
 * them), since max float must count a winner before the next ticket params are issued.
 *
 * Addresses handed in are lowercase 0x-hex (the gRPC layer parses them).
 */
@Injectable()
export class LocalSenderMonitor extends SenderMonitor implements OnModuleInit, OnApplicationShutdown {
  private readonly changes$ = new Subject<Change>();
  private readonly lastAccess = new Map<string, number>();
  private readonly subscribers = new Map<string, number>();
  private readonly logger = new Logger('SenderMonitor');
  private updates?: Subscription;
  private newWinnersSub?: Subscription;
  /** Senders notified of new winners and not re-read yet. */
  private newWinners?: Set<string> | 'all';
  private readingNewWinners = false;
  private pendingTimer?: NodeJS.Timeout;
  private cleanupTimer?: NodeJS.Timeout;
  private refreshing = false;

  constructor(
    private readonly watcher: ChainWatcher,
    private readonly pending: PendingRedemptions,
    private readonly intake: WinningTicketIntake,
    private readonly newWinnersListener: NewWinnersListener,
    private readonly metrics: SenderMonitorMetrics,
    @Inject(SENDER_MONITOR_OPTIONS) private readonly options: SenderMonitorOptions,
  ) {
    super();
  }

  onModuleInit(): void {
    if (this.options.recipients.length === 0) {
      this.logger.warn({
        msg: 'no recipient configured (SENDER_MONITOR_RECIPIENTS): every request will be refused',
      });
    }
    this.updates = this.watcher.updates$.subscribe((u) => this.onChainUpdate(u));
    this.newWinnersSub = this.newWinnersListener.winners$.subscribe((w) => this.onNewWinners(w));
    this.pendingTimer = setInterval(() => void this.refreshPending(), this.options.pendingRefreshMs);
    this.pendingTimer.unref();
    this.cleanupTimer = setInterval(() => this.evictIdle(), this.options.cleanupIntervalMs);
    this.cleanupTimer.unref();
  }

  onApplicationShutdown(): void {
    this.updates?.unsubscribe();
    this.newWinnersSub?.unsubscribe();
    clearInterval(this.pendingTimer);
    clearInterval(this.cleanupTimer);
    this.changes$.complete();
  }

  // ------------------------------------------------------------------ the SenderMonitor port

  async maxFloat(sender: string, recipient: string): Promise<bigint> {
    return (await this.maxFloatOf(sender, recipient)).maxFloat;
  }

  async validateSender(sender: string): Promise<void> {
    const validity = await this.validity(sender);
    if (!validity.valid) {
      throw new TicketError(
        validity.errorCode ?? TicketErrorCode.SENDER_UNLOCKING,
        validity.errorMessage ?? '',
      );
    }
  }

  // ------------------------------------------------------------------ the service API

  /** The recipient a sender-only request (net.TicketRedeemer) is about. */
  primaryRecipient(): string {
    const primary = this.options.recipients[0];
    if (!primary) {
      throw new SenderMonitorError(SenderMonitorErrorCode.NO_RECIPIENT, 'no recipient is configured');
    }
    return primary;
  }

  /** `recipient` if served, the primary recipient if omitted. */
  resolveRecipient(recipient?: string): string {
    if (recipient === undefined) return this.primaryRecipient();
    if (!this.options.recipients.includes(recipient)) {
      throw new SenderMonitorError(
        SenderMonitorErrorCode.UNKNOWN_RECIPIENT,
        `recipient ${checksum(recipient)} is not served by this monitor`,
      );
    }
    return recipient;
  }

  async maxFloatOf(sender: string, recipient?: string): Promise<{ maxFloat: bigint; block: bigint }> {
    const r = this.resolveRecipient(recipient);
    const view = await this.view(sender, [r]);
    return { maxFloat: view.recipients[0].maxFloat, block: view.block };
  }

  /** go-livepeer's ValidateSender (§8.3) as data. */
  async validity(sender: string): Promise<SenderValidity<TicketErrorCode>> {
    const { cached, head } = await this.state(sender);
    return validityOf(sender, cached.info, head);
  }

  /** The whole view of a sender, for every served recipient. */
  senderInfo(sender: string): Promise<MonitoredSender> {
    return this.view(sender, this.options.recipients);
  }

  /**
   * The current max float of (sender, recipient), then each change of it or of the sender's
   * validity. The sender is not evicted while a stream is open. Transient read failures skip an
   * update (the next trigger re-evaluates); only a failing first read errors the stream.
   */
  watch(sender: string, recipient?: string): Observable<MaxFloatChange> {
    return defer(() => {
      const r = this.resolveRecipient(recipient);
      this.subscribe(sender);
      const triggers$ = merge(
        of<MaxFloatChangeReason>('INITIAL'),
        this.changes$.pipe(
          filter((c) => c.senders === 'all' || c.senders.has(sender)),
          map((c): MaxFloatChangeReason => c.reason),
        ),
      );
      let last: string | undefined;
      return triggers$.pipe(
        concatMap((reason) =>
          from(this.view(sender, [r])).pipe(
            map((v): MaxFloatChange => ({
              sender,
              recipient: r,
              maxFloat: v.recipients[0].maxFloat,
              validity: v.validity,
              reason,
              block: v.block,
            })),
            catchError((err: unknown) => (reason === 'INITIAL' ? throwError(() => err) : EMPTY)),
          ),
        ),
        filter((u) => {
          const key = `${u.maxFloat}|${u.validity.valid}`;
          if (key === last) return false;
          last = key;
          return true;
        }),
        finalize(() => this.unsubscribe(sender)),
      );
    });
  }

  /**
   * go-livepeer's QueueTicket (§9.2), stricter: the ticket must be for a served recipient, carry
   * a valid signature and recipientRand, and win; then it is stored and enqueued like the
   * Recipient's winners, and the sender's pending face value (hence max float) moves at once.
   */
  async queueTicket(ticket: SignedTicket): Promise<IntakeResult> {
    try {
      const result = await this.storeTicket(ticket);
      this.metrics.queuedTickets.inc({ outcome: result.stored ? 'stored' : 'duplicate' });
      return result;
    } catch (err) {
      this.metrics.queuedTickets.inc({
        outcome: err instanceof AppError ? (err as AppError<string>).code : 'INTERNAL',
      });
      throw err;
    }
  }

  private async storeTicket(ticket: SignedTicket): Promise<IntakeResult> {
    const recipient = bytesToHex(ticket.recipient);
    const sender = bytesToHex(ticket.sender);
    if (!this.options.recipients.includes(recipient)) {
      const expected = this.options.recipients.map(checksum).join(', ') || 'none configured';
      throw new SenderMonitorError(
        SenderMonitorErrorCode.UNKNOWN_RECIPIENT,
        `invalid ticket recipient ${checksum(recipient)}, expected ${expected}`,
      );
    }
    if (!validateWinningTicket(ticket.recipient, ticket, ticket.sig, ticket.recipientRand)) {
      throw new SenderMonitorError(SenderMonitorErrorCode.TICKET_NOT_WINNING, 'ticket did not win');
    }
    // The signature does not cover expiration_block, and it is stored as a Postgres bigint: a
    // caller-chosen value past int64 must be refused here, not fail the insert as INTERNAL.
    if (ticket.paramsExpirationBlock > MAX_INT64) {
      throw new SenderMonitorError(
        SenderMonitorErrorCode.INVALID_ARGUMENT,
        'expiration_block is larger than any block number (int64)',
      );
    }
    let result: IntakeResult;
    try {
      result = await this.intake.accept(ticket);
    } catch (cause) {
      throw new SenderMonitorError(SenderMonitorErrorCode.STORE_FAILED, 'could not store the ticket', {
        cause,
      });
    }
    this.touch(sender);
    try {
      await this.refreshSenders([sender]);
    } catch (err) {
      // Stored is what counts; the periodic refresh picks the change up.
      this.logger.warn({ msg: 'pending refresh failed', sender, error: (err as Error).message });
    }
    return result;
  }

  /** Senders being watched (asked about within the TTL, or subscribed to). */
  trackedSenders(): string[] {
    return [...this.lastAccess.keys()];
  }

  // ------------------------------------------------------------------ internals

  /** A recipient whose activity the watcher does not track is counted inactive: no reserve share. */
  private readonly recipientActive = (recipient: string): boolean =>
    this.watcher.isActive(recipient) ?? false;

  private async view(sender: string, recipients: readonly string[]): Promise<MonitoredSender> {
    const { cached, pending, head } = await this.state(sender);
    return buildView(sender, cached, pending, head, recipients, this.recipientActive);
  }

  private async state(
    sender: string,
  ): Promise<{ cached: CachedSender; pending: PendingAmounts; head: ChainHead }> {
    this.touch(sender);
    let cached: CachedSender;
    let head: ChainHead;
    try {
      cached = await this.watcher.cache.get(sender);
      head = this.watcher.head();
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new SenderMonitorError(
        SenderMonitorErrorCode.CHAIN_UNAVAILABLE,
        `could not get sender info for ${checksum(sender)}: ${why}`,
        { cause },
      );
    }
    const pending = this.pending.peek(sender) ?? (await this.pending.load(sender));
    return { cached, pending, head };
  }

  private onChainUpdate(u: ChainUpdate): void {
    if (u.all) this.changes$.next({ senders: 'all', reason: 'ROUND' });
    else if (u.senders.size > 0) this.changes$.next({ senders: u.senders, reason: 'CHAIN_EVENT' });
  }

  /** Re-reads the pending face value of watched senders, pushes changes, refreshes the metrics. */
  private async refreshPending(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const senders = this.trackedSenders();
      await this.refreshSenders(senders);
      this.observeMetrics(senders);
    } catch (err) {
      this.logger.warn({ msg: 'pending refresh failed', error: (err as Error).message });
    } finally {
      this.refreshing = false;
    }
  }

  /** Re-reads the pending face value of `senders` and pushes the changes. */
  private async refreshSenders(senders: readonly string[]): Promise<void> {
    const changed = await this.pending.refresh(senders);
    if (changed.length > 0) this.changes$.next({ senders: new Set(changed), reason: 'PENDING' });
  }

  /**
   * Re-reads the watched senders among those with new winners (all of them for 'all'). One read
   * at a time: notifications arriving meanwhile are gathered into the next.
   */
  private onNewWinners(winners: NewWinners): void {
    if (winners === 'all' || this.newWinners === 'all') {
      this.newWinners = 'all';
    } else {
      for (const sender of winners) {
        if (!this.lastAccess.has(sender)) continue;
        this.newWinners ??= new Set();
        this.newWinners.add(sender);
      }
    }
    void this.readNewWinners();
  }

  private async readNewWinners(): Promise<void> {
    if (this.readingNewWinners) return;
    this.readingNewWinners = true;
    try {
      while (this.newWinners) {
        const senders = this.newWinners === 'all' ? this.trackedSenders() : [...this.newWinners];
        this.newWinners = undefined;
        try {
          await this.refreshSenders(senders);
        } catch (err) {
          // The next poll reads them.
          this.logger.warn({ msg: 'pending refresh of new winners failed', error: (err as Error).message });
        }
      }
    } finally {
      this.readingNewWinners = false;
    }
  }

  private observeMetrics(senders: readonly string[]): void {
    this.metrics.trackedSenders.set(senders.length);
    let subscriptions = 0;
    for (const n of this.subscribers.values()) subscriptions += n;
    this.metrics.subscriptions.set(subscriptions);
    if (!this.watcher.isSynced()) return;
    const head = this.watcher.head();
    for (const sender of senders) {
      const cached = this.watcher.cache.peek(sender);
      const pending = this.pending.peek(sender);
      if (!cached || !pending) continue;
      const view = buildView(sender, cached, pending, head, this.options.recipients, this.recipientActive);
      this.metrics.observeSender({
        sender,
        deposit: view.info.deposit,
        reserve: view.info.reserve.fundsRemaining,
        valid: view.validity.valid,
        recipients: view.recipients,
      });
    }
  }

  private evictIdle(): void {
    const cutoff = Date.now() - this.options.senderTtlMs;
    for (const [sender, at] of this.lastAccess) {
      if (at >= cutoff || (this.subscribers.get(sender) ?? 0) > 0) continue;
      this.lastAccess.delete(sender);
      this.watcher.cache.delete(sender);
      this.pending.delete(sender);
      this.metrics.forgetSender(sender);
    }
  }

  private touch(sender: string): void {
    this.lastAccess.set(sender, Date.now());
  }

  private subscribe(sender: string): void {
    this.subscribers.set(sender, (this.subscribers.get(sender) ?? 0) + 1);
    this.touch(sender);
  }

  private unsubscribe(sender: string): void {
    const n = (this.subscribers.get(sender) ?? 1) - 1;
    if (n > 0) this.subscribers.set(sender, n);
    else this.subscribers.delete(sender);
    // The TTL runs from the end of the last subscription.
    this.touch(sender);
  }
}

function buildView(
  sender: string,
  cached: CachedSender,
  pending: PendingAmounts,
  head: ChainHead,
  recipients: readonly string[],
  isActive: (recipient: string) => boolean,
): MonitoredSender {
  const { info, claimed } = claimsOfRound(cached, head.rounds.currentRoundInitialized);
  return {
    sender,
    info,
    pendingTotal: pending.total,
    validity: validityOf(sender, info, head),
    poolSize: head.rounds.poolSize,
    currentRound: head.rounds.currentRound,
    lastInitializedRound: head.rounds.lastInitializedRound,
    block: head.block,
    recipients: recipients.map((recipient) => {
      const inputs = {
        info,
        claimed: claimed.get(recipient) ?? 0n,
        poolSize: head.rounds.poolSize,
        recipientActive: isActive(recipient),
        pending: pending.byRecipient.get(recipient) ?? 0n,
        pendingTotal: pending.total,
      };
      return {
        recipient,
        recipientActive: inputs.recipientActive,
        claimedReserve: inputs.claimed,
        reserveAllocation: reserveAllocation(inputs),
        pending: inputs.pending,
        maxFloat: maxFloat(inputs),
      };
    }),
  };
}

function validityOf(sender: string, info: SenderInfo, head: ChainHead): SenderValidity<TicketErrorCode> {
  if (!isUnlockingSoon(info, head.rounds.lastInitializedRound)) return { valid: true };
  const refusal = senderUnlockingError(parseAddress(sender));
  return { valid: false, errorCode: refusal.code, errorMessage: refusal.message };
}

const checksum = (address: string): string => toChecksumAddress(parseAddress(address));
