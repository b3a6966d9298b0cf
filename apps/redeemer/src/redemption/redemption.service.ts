import { Injectable, Logger } from '@nestjs/common';
import {
  TxManager,
  TxStore,
  classifyChainError,
  lastRedeemableBlock,
  roundMayEndBeforeMined,
  type ChainTxRecord,
} from '#app/chain';
import {
  FINAL_STATUSES,
  IN_TX_STATUSES,
  RedemptionRepository,
  WinningTicketRepository,
  WinningTicketStatus,
  type WinningTicketEntity,
} from '#app/database';
import { RedemptionQueue, exponentialBackoffMs, type RedemptionJobHandler } from '#app/queue';
import {
  blocksUntilParamsExpire,
  inLastValidRound,
  lastValidCreationRound,
  storedRevealBlock,
  ticketHashText,
  ticketValidityExpired,
} from '#app/ticket';
import { RedeemerMetrics } from '../metrics/redeemer.metrics.js';
import { RedeemerConfig } from '../redeemer.config.js';
import { RedeemerError, RedeemerErrorCode, type RedeemerJobAction } from '#app/clients';
import { safeErrorMessage } from '#app/common';
import { gasCostWait } from './gas-cost.js';
import { InFlight } from './in-flight.js';
import { RedeemerChain } from './redeemer-chain.js';
import { RedemptionBatcher } from './redemption-batcher.js';
import { RedemptionCode, expired, retry, wait, type Verdict } from './redemption-code.js';
import { RoundEndMargin } from './round-end-margin.js';
import { SettlementService } from './settlement.service.js';

/** Waits on the chain's round: every ticket waits alike until it is ready. */
const ROUND_WAITS: readonly RedemptionCode[] = [
  RedemptionCode.ROUND_ENDING,
  RedemptionCode.ROUND_NOT_INITIALIZED,
];

/** What the processor does with the job. */
export type JobResult =
  | { kind: 'done'; status: WinningTicketStatus }
  | { kind: 'later'; code: RedemptionCode; delayMs: number; holdAll?: boolean }
  | { kind: 'invalid'; reason: string };

export interface RedeemNowResult {
  ticketHash: string;
  status: WinningTicketStatus;
  statusReason: string | null;
  job: RedeemerJobAction;
}

/**
 * Why a ticket was put back in line while its job slept (by its tx's settlement, or by a send that
 * failed after the claim): its next attempt first waits out its back-off.
 */
const PUT_BACK: readonly (string | null)[] = [
  RedemptionCode.TX_REVERTED,
  RedemptionCode.TX_DROPPED,
  RedemptionCode.BATCH_ITEM_FAILED,
  RedemptionCode.CHAIN_ERROR,
];
/** Longest sleep of a waiting ticket, in poll intervals, whatever the block pace estimate says. */
const MAX_WAIT_POLLS = 10;
/**
 * How long the job of a ticket claimed for a tx, or in one, sleeps while this process sends the tx
 * and its settlement follows it: the settlement removes or wakes the job as soon as it decides the
 * ticket (a send that fails wakes it at once), so this is only the backstop for a wake-up that did
 * not happen (Redis trouble), never the normal path.
 */
export const IN_TX_SLEEP_MS = 30_000;

/**
 * How long a ticket must have been claimed, with no tx stored for it, before it is put back in line
 * (ORPHANED). A claim this young may belong to a batch of this process still storing its tx (after
 * a lost and regained lease, or one the in-flight hold no longer covers): requeued then, it would
 * be sent again while that tx goes out. A batch stores its tx within seconds of claiming (one head
 * read and the send queue), so a minute only delays the rare real orphan of a crash.
 */
export const ORPHAN_MIN_AGE_MS = 60_000;

/**
 * One ticket's way through the state machine, driven by its job:
 *
 *   received → queued → submitting → submitted(txHash) → redeemed | failed(code) | expired
 *                 ↑___________________________|  (tx reverted/dropped or batch item failed: retry)
 *
 * Every move is a compare-and-set on the row. `queued → submitting` (a claim) happens only for a
 * ticket about to be put in a tx; the tx is stored with the ticket hash before it is broadcast, and
 * only that tx's settlement moves the ticket on. So a ticket is in at most one live tx, and after
 * any crash its row plus the stored tx (hash, receipt) and `usedTickets` say where it stands.
 */
@Injectable()
export class RedemptionService implements RedemptionJobHandler {
  private readonly logger = new Logger(RedemptionService.name);
  private readonly recipients?: ReadonlySet<string>;
  /** Tickets an operator asked to redeem regardless of the gas price / cost limits. */
  private readonly ignoreGasLimits = new Set<string>();
  /** The last answer of lastRoundTicketsWait, and when it was looked up. */
  private lastRoundWaiting?: { atMs: number; waiting: boolean };
  private stopping = false;
  private readonly stopped: Promise<void>;
  private signalStop!: () => void;

  constructor(
    private readonly config: RedeemerConfig,
    private readonly tickets: WinningTicketRepository,
    private readonly redemptions: RedemptionRepository,
    private readonly chain: RedeemerChain,
    private readonly batcher: RedemptionBatcher,
    private readonly settlement: SettlementService,
    private readonly store: TxStore,
    private readonly txs: TxManager,
    private readonly inFlight: InFlight,
    private readonly metrics: RedeemerMetrics,
    private readonly queue: RedemptionQueue,
    private readonly margin: RoundEndMargin,
  ) {
    const served = config.servedRecipients(txs.address);
    this.recipients = served ? new Set(served) : undefined;
    this.stopped = new Promise((resolve) => (this.signalStop = resolve));
  }

  /** Recipients this redeemer handles; undefined = all. */
  get servedRecipients(): readonly string[] | undefined {
    return this.recipients ? [...this.recipients] : undefined;
  }

  /** Handles one job: moves the ticket as far as it can go now and says when to look again. */
  async process(ticketHash: string): Promise<JobResult> {
    if (this.stopping || this.inFlight.ticketBusy(ticketHash)) return this.later(RedemptionCode.IN_PROGRESS);
    let row = await this.tickets.findByHash(ticketHash);
    if (!row) return { kind: 'invalid', reason: `no winning ticket ${ticketHash} in the database` };
    if (FINAL_STATUSES.includes(row.status)) return { kind: 'done', status: row.status };
    // Redeemers serving other recipients share the queue: the job goes back for its owner to take
    // (failed, it would wait for the owner's next reconciler pass, or for good if that one took
    // it too). A poll interval apart, so a job whose owner is down costs little meanwhile.
    if (this.recipients && !this.recipients.has(row.recipient)) return this.later(RedemptionCode.NOT_SERVED);
    try {
      if (row.status === WinningTicketStatus.RECEIVED) {
        // Its job ran before the intake marked it queued. Moved here, nothing else of it changed.
        row = (await this.queue.markQueued(ticketHash))
          ? Object.assign(row, { status: WinningTicketStatus.QUEUED })
          : (await this.tickets.findByHash(ticketHash))!;
      }
      switch (row.status) {
        case WinningTicketStatus.QUEUED:
          return await this.beforeExpiry(row, await this.redeem(row));
        case WinningTicketStatus.SUBMITTING:
        case WinningTicketStatus.SUBMITTED:
          return await this.followUp(row);
        case WinningTicketStatus.RECEIVED:
          // Moved back or not moved by a concurrent writer: look again at once, never finish the job.
          return this.later(RedemptionCode.IN_PROGRESS, 0);
        case WinningTicketStatus.REDEEMED:
        case WinningTicketStatus.FAILED:
        case WinningTicketStatus.EXPIRED:
          return { kind: 'done', status: row.status };
      }
    } catch (err) {
      const error = classifyChainError(err);
      this.logger.warn({ msg: 'redemption step failed', ticketHash, code: error.code, error: error.message });
      const result = await this.apply(
        row,
        retry(RedemptionCode.CHAIN_ERROR, `${error.code}: ${error.message}`),
      );
      return row.status === WinningTicketStatus.QUEUED ? this.beforeExpiry(row, result) : result;
    }
  }

  /**
   * `result` with its wait cut so that the job runs again before the ticket's last valid round ends
   * (less the round-end margin a tx needs to be mined in it), and at least a poll interval: a
   * back-off, or a wait, reaching past that would let a ticket that could still be redeemed expire.
   * In its last valid round while the chain's pace is unknown, a poll interval.
   */
  private async beforeExpiry(row: WinningTicketEntity, result: JobResult): Promise<JobResult> {
    if (result.kind !== 'later') return result;
    const delayMs = await this.cutToExpiry(row, result.delayMs);
    return delayMs < result.delayMs ? { ...result, delayMs } : result;
  }

  /** `delayMs` cut as beforeExpiry cuts a wait. */
  private async cutToExpiry(row: WinningTicketEntity, delayMs: number): Promise<number> {
    const poll = this.config.values.REDEEMER_POLL_MS;
    if (delayMs <= poll) return delayMs;
    try {
      const head = await this.chain.head();
      const validity = await this.chain.validityPeriod();
      const last = lastRedeemableBlock(row.creationRound, validity, head);
      if (last === undefined) return delayMs;
      const left = this.chain.msUntilL1Block(last - BigInt(this.margin.blocks()));
      const lastRound = inLastValidRound(row.creationRound, validity, head.rounds.currentRound);
      const cap = left !== undefined ? Math.max(poll, left) : lastRound ? poll : undefined;
      return cap !== undefined && cap < delayMs ? cap : delayMs;
    } catch {
      // The chain unread: the wait stands (the run after it reads the chain again).
      return delayMs;
    }
  }

  /**
   * How long the job of a ticket waits after its `errors`-th run in a row that threw (the worker
   * asks; RedemptionJobHandler.errorDelay): the Redeemer's one retry back-off (REDEEMER_RETRY_*),
   * cut as beforeExpiry cuts every wait, so the job runs again before the ticket's last valid round
   * ends. A row that cannot be read (Postgres down, likely why the run threw) gives no round to cut
   * by: at most a poll interval then, never a back-off that could sleep past the end. Never throws.
   */
  async errorDelay(ticketHash: string, errors: number): Promise<number> {
    const delayMs = this.backoff(errors);
    let row: WinningTicketEntity | null;
    try {
      row = await this.tickets.findByHash(ticketHash);
    } catch {
      return Math.min(delayMs, this.config.values.REDEEMER_POLL_MS);
    }
    if (!row || FINAL_STATUSES.includes(row.status)) return delayMs;
    return this.cutToExpiry(row, delayMs);
  }

  /**
   * Operator entry point ("redeem now", called by the ops API through POST
   * /ops/tickets/:hash/redeem): skips the ticket's current wait or back-off, and with
   * `ignoreGasLimits` also the gas price cap and tx-cost ratio for its next attempt. Every safety
   * check (params expiry, validity, usedTickets, funds, simulation) still applies.
   */
  async redeemNow(ticketHash: string, options: { ignoreGasLimits?: boolean } = {}): Promise<RedeemNowResult> {
    const hash = ticketHashText(ticketHash);
    if (hash === undefined) {
      throw new RedeemerError(
        RedeemerErrorCode.INVALID_TICKET_HASH,
        'ticket hash must be 0x + 64 hex digits',
      );
    }
    const row = await this.tickets.findByHash(hash);
    if (!row) throw new RedeemerError(RedeemerErrorCode.TICKET_NOT_FOUND, `no winning ticket ${hash}`);
    if (FINAL_STATUSES.includes(row.status)) {
      throw new RedeemerError(RedeemerErrorCode.TICKET_FINAL, `ticket ${hash} is already ${row.status}`);
    }
    if (this.recipients && !this.recipients.has(row.recipient)) {
      throw new RedeemerError(
        RedeemerErrorCode.NOT_SERVED,
        `recipient ${row.recipient} is not served by this redeemer`,
      );
    }
    // Set before the job can run; taken back when the job could not be made due (nothing changed).
    if (options.ignoreGasLimits) this.ignoreGasLimits.add(hash);
    const action = await this.queue
      .redeemNow({
        ticketHash: hash,
        sender: row.sender,
        creationRound: row.creationRound,
        status: row.status,
      })
      .catch((err: unknown) => {
        if (options.ignoreGasLimits) this.ignoreGasLimits.delete(hash);
        throw err;
      });
    this.logger.log({
      msg: 'redeem now',
      ticketHash: hash,
      job: action,
      ignoreGasLimits: !!options.ignoreGasLimits,
    });
    return { ticketHash: hash, status: row.status, statusReason: row.statusReason, job: action };
  }

  /**
   * After a restart, before any job runs: follow every stored pending tx again (holding its
   * senders), settle txs that became final while we were down, and put tickets claimed by a tx
   * that was never stored back in line.
   */
  async recoverAtBoot(): Promise<void> {
    const settles: string[] = [];
    for (const tx of this.txs.pending()) {
      const rows = await this.tickets.findByHashes(tx.refs);
      void this.settlement.settle(tx.id, rows);
      settles.push(tx.id);
    }
    const orphans: string[] = [];
    const foreign: string[] = [];
    for (const t of await this.tickets.openTickets(this.servedRecipients, 100_000, IN_TX_STATUSES)) {
      // A batch of this process holds it (claimed before a lost lease, still sending): its own.
      if (this.inFlight.ticketBusy(t.ticketHash)) continue;
      // Another signer's tx too: settled here if no Redeemer holds that signer (SettlementService).
      const tx = await this.txOfClaim(t.ticketHash, t.status);
      if (tx) {
        if (!this.settlement.ours(tx)) foreign.push(t.ticketHash);
        if (!settles.includes(tx.id)) {
          const rows = await this.tickets.findByHashes(tx.refs);
          void this.settlement.settle(tx.id, rows);
          settles.push(tx.id);
        }
      } else if (await this.tickets.requeueOrphan(t.ticketHash, RedemptionCode.ORPHANED, ORPHAN_MIN_AGE_MS)) {
        orphans.push(t.ticketHash);
      }
    }
    // Their jobs may sleep the long in-tx sleep of the process that claimed them: back in line,
    // they are due now; in another signer's tx, they poll from now on (its settlement here runs
    // once per look and wakes no one while the tx is pending). If Redis does not answer, they run
    // after that sleep: nothing is lost.
    if (orphans.length + foreign.length > 0) {
      await this.queue
        .wake([], [...orphans, ...foreign])
        .catch((err: unknown) =>
          this.logger.warn({ msg: 'jobs not woken after recovery', error: (err as Error).message }),
        );
    }
    this.logger.log({
      msg: 'recovered',
      txs: settles.length,
      orphans: orphans.length,
      foreign: foreign.length,
    });
  }

  stop(): void {
    this.stopping = true;
    this.signalStop();
    this.batcher.stop();
  }

  private async redeem(row: WinningTicketEntity): Promise<JobResult> {
    const pause = await this.backoffLeft(row);
    if (pause > 0) return this.later(row.statusReason as RedemptionCode, pause);
    const force = this.ignoreGasLimits.has(row.ticketHash);
    const gate = await this.gate(row, force);
    if (gate) return this.apply(row, gate);
    const outcome = await this.batcher.submit(row, force);
    if (outcome.kind === 'verdict') {
      // Used on chain, perhaps by an earlier tx of ours mined after it was given up: that tx's
      // settlement decides (SettlementService.reclaimUsed).
      if (outcome.verdict.kind === 'final' && outcome.verdict.code === RedemptionCode.TICKET_USED) {
        const txId = await this.settlement.reclaimUsed(row);
        if (txId) return this.awaitSettlement(row.ticketHash, txId);
      }
      return this.apply(row, outcome.verdict);
    }
    this.ignoreGasLimits.delete(row.ticketHash);
    // Claimed for a tx: the batcher sends it and the tx's settlement follows it on their own. The
    // job gives back its worker slot meanwhile, so the tickets in flight (and in the signer's send
    // queue) are not bounded by the worker concurrency, and sleeps until the settlement (or a
    // send that failed) removes or wakes it.
    return this.later(RedemptionCode.AWAITING_CONFIRMATION, IN_TX_SLEEP_MS);
  }

  /**
   * A ticket in tx `txId`: sleep long while this process's settlement follows it to its end (a tx
   * of this signer: the run waits for the tx to be final, then removes or wakes the job), else
   * poll. A run over another signer's tx only reads the chain once and wakes no one while the tx
   * is pending (`ours` false): its job polls.
   */
  private awaitingTx(txId: string, ours = true): JobResult {
    return this.later(
      RedemptionCode.AWAITING_CONFIRMATION,
      ours && this.settlement.running(txId) ? IN_TX_SLEEP_MS : this.config.values.REDEEMER_POLL_MS,
    );
  }

  /** What is left of the back-off of a ticket its last tx did not redeem (0 = none). */
  private async backoffLeft(row: WinningTicketEntity): Promise<number> {
    if (!PUT_BACK.includes(row.statusReason)) return 0;
    const since = Date.now() - row.updatedAt.getTime();
    return Math.max(0, (await this.backoffFor(row.ticketHash)) - since);
  }

  /**
   * The checks that need no chain call per ticket: params expiry, validity window, round, gas price
   * cap. Against the polled head, except a round wait (its sleep lasts until the next round can be
   * initialized), which is first confirmed against the head read now (`latest`).
   */
  private async gate(row: WinningTicketEntity, force: boolean, latest = false): Promise<Verdict | null> {
    const v = this.config.values;
    const head = latest ? await this.chain.latestHead() : await this.chain.head();
    // recipientRand is revealed only once no Recipient can still take these params (PROTOCOL §8.4):
    // at the block the one that accepted the ticket stored, else this Redeemer's margin past expiry.
    const reveal = storedRevealBlock(row, v.REDEEMER_PARAMS_EXPIRY_MARGIN_BLOCKS);
    if (blocksUntilParamsExpire(reveal, head.l1Block) > 0n) {
      // Sleep until the block is due to be seen: one run usually finds the params expired (a run
      // per poll interval before it was the Redeemer's largest job churn).
      return wait(RedemptionCode.PARAMS_NOT_EXPIRED, this.chain.msUntilL1Block(reveal));
    }
    const validityPeriod = await this.chain.validityPeriod();
    const round = head.rounds.currentRound;
    if (ticketValidityExpired(row.creationRound, validityPeriod, round)) return expired();
    // Redemptions revert until the round is initialized, and a tx mined in the next round reverts
    // until that one is: hold near the end (RoundEndMargin). Not a ticket in its last valid round:
    // held, it surely expires; sent, it is lost only if its tx is mined after the end.
    const initialized = head.rounds.currentRoundInitialized;
    const ending =
      !inLastValidRound(row.creationRound, validityPeriod, round) &&
      roundMayEndBeforeMined(head, this.margin.blocks());
    if (!initialized || ending) {
      if (!latest) return this.gate(row, force, true);
      // One wait per round step: sleep until the round waited for can have been initialized.
      return wait(
        initialized ? RedemptionCode.ROUND_ENDING : RedemptionCode.ROUND_NOT_INITIALIZED,
        this.chain.msUntilRoundReady(head),
      );
    }
    return force ? null : gasCostWait(this.config.gasLimits(), head.gasPrice);
  }

  /**
   * The stored tx a ticket in a tx (`status`) was claimed for, or null: none stored yet, or only
   * older ones, which put it back in line before it was claimed again (WinningTicketRepository.claimedAfter).
   */
  private async txOfClaim(ticketHash: string, status: WinningTicketStatus): Promise<ChainTxRecord | null> {
    const tx = await this.store.latestByRef(ticketHash);
    if (!tx || status !== WinningTicketStatus.SUBMITTING) return tx;
    return (await this.tickets.claimedAfter([ticketHash], tx.id)).size > 0 ? null : tx;
  }

  private async followUp(row: WinningTicketEntity): Promise<JobResult> {
    const tx = await this.txOfClaim(row.ticketHash, row.status);
    if (!tx) {
      // Claimed, but its tx was never stored (crash in between): nothing can be on chain. Unless
      // the claim is young: a batch may still be storing its tx (ORPHAN_MIN_AGE_MS).
      if (await this.tickets.requeueOrphan(row.ticketHash, RedemptionCode.ORPHANED, ORPHAN_MIN_AGE_MS)) {
        return { kind: 'later', code: RedemptionCode.ORPHANED, delayMs: 0 };
      }
      return this.later(RedemptionCode.IN_PROGRESS);
    }
    const ours = this.settlement.ours(tx);
    if (this.settlement.running(tx.id)) return this.awaitingTx(tx.id, ours);
    // Nobody here follows the tx (a restart, its settlement gave up, or another signer's tx that
    // no Redeemer follows any more: settled here, see SettlementService): settle it, for a bounded time.
    return this.awaitSettlement(row.ticketHash, tx.id, ours);
  }

  /** Waits a bounded time for the ticket's tx to settle, then reports where the ticket stands. */
  private async awaitSettlement(ticketHash: string, txId: string, ours = true): Promise<JobResult> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.settlement.settle(txId),
      this.stopped,
      new Promise<void>(
        (resolve) => (timer = setTimeout(resolve, this.config.values.REDEEMER_SETTLE_WAIT_MS)),
      ),
    ]);
    clearTimeout(timer);
    const row = await this.tickets.findByHash(ticketHash);
    if (!row) return { kind: 'invalid', reason: `winning ticket ${ticketHash} vanished` };
    if (FINAL_STATUSES.includes(row.status)) return { kind: 'done', status: row.status };
    if (row.status === WinningTicketStatus.QUEUED) {
      return this.later(RedemptionCode.TX_REVERTED, await this.backoffFor(ticketHash));
    }
    return this.awaitingTx(txId, ours);
  }

  private async apply(row: WinningTicketEntity, verdict: Verdict): Promise<JobResult> {
    const hash = row.ticketHash;
    switch (verdict.kind) {
      case 'final': {
        // The final status and its code in `redemption` commit together: the ticket is final, neither is written again.
        const moved = await this.redemptions.moveWithCode(
          hash,
          (trx) => this.tickets.finalize(hash, verdict.status, verdict.code, trx),
          { code: verdict.code },
        );
        if (!moved) return this.later(RedemptionCode.IN_PROGRESS, 0);
        this.metrics.outcomes.inc({ status: verdict.status, code: verdict.code });
        this.metrics.shared.redemptionError(verdict.code);
        this.logger.log({
          msg: 'ticket final',
          ticketHash: hash,
          status: verdict.status,
          code: verdict.code,
        });
        return { kind: 'done', status: verdict.status };
      }
      case 'wait': {
        this.metrics.waits.inc({ code: verdict.code });
        await this.annotate(row, verdict.code);
        const poll = this.config.values.REDEEMER_POLL_MS;
        const delayMs = Math.min(Math.max(verdict.delayMs ?? poll, poll), MAX_WAIT_POLLS * poll);
        // The round holds every ticket alike: the worker takes no other job meanwhile.
        const holdAll =
          ROUND_WAITS.includes(verdict.code) && !(await this.lastRoundTicketsWait(verdict.code));
        return { kind: 'later', code: verdict.code, delayMs, holdAll };
      }
      case 'retry': {
        const attempts = await this.redemptions.recordRetry(hash, verdict.code, verdict.error ?? null);
        this.metrics.retries.inc({ code: verdict.code });
        await this.annotate(row, verdict.code);
        return this.later(verdict.code, this.backoff(attempts));
      }
    }
  }

  /**
   * Records why a queued ticket is not moving (visible to operators), only when the reason changes;
   * notes of tickets waiting at once are written together (WinningTicketRepository.note). Not for
   * params not expired yet: every winner waits for them first (mostly in its job's first
   * delay, without a run), and its row's paramsExpirationBlock says so; no UPDATE for it.
   */
  private async annotate(row: WinningTicketEntity, code: RedemptionCode): Promise<void> {
    if (code === RedemptionCode.PARAMS_NOT_EXPIRED) return;
    if (row.status !== WinningTicketStatus.QUEUED || row.statusReason === code) return;
    await this.tickets.note(row.ticketHash, code);
  }

  private later(code: RedemptionCode, delayMs = this.config.values.REDEEMER_POLL_MS): JobResult {
    return { kind: 'later', code, delayMs };
  }

  private async backoffFor(ticketHash: string): Promise<number> {
    return this.backoff(await this.redemptions.attempts(ticketHash));
  }

  /**
   * Whether holding every job for the round's end would hold a ticket in its last valid round (one
   * created validityPeriod − 1 rounds ago still waiting for a tx): its job must still run, as the
   * gate lets it go. Only for ROUND_ENDING: until a round is initialized every redemption reverts.
   */
  private async lastRoundTicketsWait(code: RedemptionCode): Promise<boolean> {
    if (code !== RedemptionCode.ROUND_ENDING) return false;
    const now = Date.now();
    const cached = this.lastRoundWaiting;
    if (cached && now - cached.atMs < this.config.values.REDEEMER_POLL_MS) return cached.waiting;
    let waiting = false;
    try {
      const [head, validityPeriod] = await Promise.all([this.chain.head(), this.chain.validityPeriod()]);
      const created = lastValidCreationRound(validityPeriod, head.rounds.currentRound);
      // A sender past its unlock pays no ticket, last round or not: nothing to wait for.
      waiting =
        created !== undefined &&
        (await this.tickets.anyUnclaimedCreatedIn(this.servedRecipients, created, [
          RedemptionCode.SENDER_UNLOCKED,
        ]));
    } catch (err) {
      // Unknown: hold as before (the tickets lose at most what they lost before this check).
      this.logger.warn({ msg: 'last-round tickets not looked up', error: safeErrorMessage(err) });
    }
    // One look per poll interval: every job of a backlog reaches this at a round's end.
    this.lastRoundWaiting = { atMs: now, waiting };
    return waiting;
  }

  /** The back-off after `attempts` failed redemptions, by the Redeemer's retry settings. */
  private backoff(attempts: number): number {
    const { REDEEMER_RETRY_BASE_MS: base, REDEEMER_RETRY_MAX_MS: max } = this.config.values;
    return exponentialBackoffMs(attempts, base, max);
  }
}
