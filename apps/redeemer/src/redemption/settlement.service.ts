import { Injectable, Logger } from '@nestjs/common';
import type { TransactionReceipt } from 'ethers';
import {
  ChainErrorCode,
  ChainTxStatus,
  NONCE_GONE_CHECKS,
  TxManager,
  TxStore,
  classifyChainError,
  isRedemptionTx,
  type ChainTxRecord,
  type FoundRedemption,
  type RedeemedTicket,
  type TxFinish,
} from '#app/chain';
import { RepeatNotice, withTimeout } from '#app/core';
import {
  IN_TX_STATUSES,
  RedemptionRepository,
  SignerLease,
  UnitOfWork,
  WinningTicketRepository,
  WinningTicketStatus,
  type DbTransaction,
  type RedemptionNote,
  type WinningTicketEntity,
} from '#app/database';
import { RedemptionQueue } from '#app/queue';
import { RedeemerMetrics } from '../metrics/redeemer.metrics.js';
import { InFlight, type HeldTicket } from './in-flight.js';
import { RedeemerChain } from './redeemer-chain.js';
import { RedemptionCode } from './redemption-code.js';
import { RedemptionGas } from './redemption-gas.js';

/**
 * How long shutdown waits for settlements writing their outcome (a few statements, and a chain call
 * per ticket not in the receipt). One cut off is rolled back whole and done again after the restart.
 */
const STOP_WAIT_MS = 5_000;

/**
 * How deep under the latest head a mined tx's block must be, and how long ago the tx was recorded
 * mined, before a receipt no node gives is lost for good (a reorg took the tx out, or the node no
 * longer indexes it) rather than late: its tickets are then decided without it (see `outcome`)
 * instead of being settled again at every poll for ever. Two epochs on Ethereum; on a fast chain
 * (Arbitrum) the time is what counts: a lagging node behind a load balancer catches up within it.
 */
export const RECEIPT_LOST_BLOCKS = 64n;
export const RECEIPT_LOST_MS = 10 * 60_000;
/** `chain_tx.error_code` of a mined tx whose receipt was lost and which the logs show redeemed nothing. */
export const RECEIPT_LOST = 'RECEIPT_LOST';

/** The tickets of a tx, when the caller already has them (so the hold is taken at once). */
export type TxParties = readonly HeldTicket[];

/** Least time between two sends of another signer's stored tx that the node does not have. */
const RESEND_INTERVAL_MS = 60_000;

/** Whose jobs a settlement must tell: tickets decided for good, and tickets to look at again. */
export interface Decided {
  final: string[];
  /** Put back in line, or still in the tx because the settlement failed. */
  again: string[];
}

/**
 * Turns a redemption tx's final status into its tickets' final (or retry) statuses. Per ticket:
 * in the receipt's `WinningTicketRedeemed` logs → `redeemed`; otherwise (reverted, dropped, or a
 * batch item that failed silently), if it is used on chain, `redeemed` by whichever tx the broker's
 * logs show paid it, ours or not (ownRedemption; our recipient is paid either way), or
 * `failed(TICKET_USED)` when no such log is found; unused, back to `queued` for another attempt.
 * Idempotent and safe to run again after a crash: every change is a compare-and-set, and only the
 * ticket's newest tx may decide it. The rows are read and written per tx, not per ticket (one read
 * of the tickets, one of their newest txs, one move of the redeemed ones, one insert of their
 * redemptions).
 *
 * Every ticket is decided from the chain first; then the tickets' moves with their `redemption`
 * rows (the amount paid, the code, the retry), and the tx's `chain_tx` row when the chain says
 * otherwise than it (TxStore.correct), commit in one database transaction, a row written only for
 * the tickets that moved: a settlement cut short (crash, shutdown, database lost) leaves its
 * tickets in their tx, so the next settlement of the tx (the ticket's follow-up, or recovery after
 * a restart) decides them with their rows.
 *
 * A ticket's job sleeps while its tx is in flight (it is not polled): once the settlement has
 * decided a ticket, its job is removed (final) or woken (back in line), or, when the settlement
 * failed, woken so that its next run settles the tx again.
 */
@Injectable()
export class SettlementService {
  private readonly logger = new Logger(SettlementService.name);
  private readonly runs = new Map<string, Promise<void>>();
  /** Txs that failed to settle, for a warning a minute each while they keep failing. */
  private readonly unsettled = new RepeatNotice(60_000);
  /** Settlements writing their outcome now: what `stop` waits for. */
  private readonly applying = new Set<Promise<Decided>>();
  /** Txs of other signers seen with their nonce used and no receipt: checks in a row (see `outcome`). */
  private readonly nonceGone = new Map<string, number>();
  /** Txs of another signer whose signed bytes were sent again: when last (at most once a minute each). */
  private readonly resent = new Map<string, number>();
  /** Of those, the ones sent for the first time by the run now ending: their jobs are woken, once. */
  private readonly wakeAfterSend = new Set<string>();
  private stopping = false;

  constructor(
    private readonly txs: TxManager,
    private readonly store: TxStore,
    private readonly tickets: WinningTicketRepository,
    private readonly redemptions: RedemptionRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly chain: RedeemerChain,
    private readonly inFlight: InFlight,
    private readonly metrics: RedeemerMetrics,
    private readonly queue: RedemptionQueue,
    private readonly gas: RedemptionGas,
    private readonly lease: SignerLease,
  ) {
    this.txs.reopenWith((record, reopenRow) => this.reopen(record, reopenRow));
  }

  /**
   * FinalTxReopener: a final tx of ours that a reorganisation deeper than the confirmations took off
   * the chain (or mined in another block) is pending again, and the tickets recorded paid by it are back in it (MOVES.unsettle,
   * their amounts paid taken back), in one database transaction. The TxManager then follows it as
   * any pending tx, and its settlement decides the tickets afresh: redeemed if its copy is mined
   * with their logs, back in line if it reverts or another tx takes its nonce. Their jobs (removed
   * when they were redeemed) are created again here; should that fail, the reconciler does it.
   */
  private async reopen(
    record: ChainTxRecord,
    reopenRow: (trx: DbTransaction) => Promise<ChainTxRecord | null>,
  ): Promise<ChainTxRecord | null> {
    const done = await this.unitOfWork.run(async (trx) => {
      const reopened = await reopenRow(trx);
      if (!reopened) return null;
      const paid = await this.redemptions.paidBy(record.id, trx);
      const moved = await this.tickets.unsettleAll(paid, RedemptionCode.TX_REORGED, trx);
      await this.redemptions.unrecordRedeemed(moved, record.id, RedemptionCode.TX_REORGED, trx);
      return { reopened, moved };
    });
    if (!done) return null;
    this.metrics.reopened.inc(done.moved.length);
    this.logger.error({
      msg: 'tx changed by a reorganisation after it was final: followed again, the tickets it paid back in it',
      txId: record.id,
      was: record.status,
      tickets: done.moved.length,
    });
    if (done.moved.length > 0) void this.recreateJobs(done.moved);
    return done.reopened;
  }

  private async recreateJobs(hashes: readonly string[]): Promise<void> {
    try {
      for (const row of await this.tickets.findByHashes(hashes)) {
        await this.queue.ensureDue(
          { ticketHash: row.ticketHash, sender: row.sender, creationRound: row.creationRound },
          { promote: true, status: row.status },
        );
      }
    } catch (err) {
      this.logger.warn({
        msg: 'jobs of a reopened tx not created: left to the reconciler',
        error: (err as Error).message,
      });
    }
  }

  /**
   * Settles tx `txId` once (concurrent calls share the run). Resolves, never rejects, when its
   * tickets are decided or the attempt failed (stopping, chain or database down).
   */
  settle(txId: string, parties?: TxParties, reclaimed: readonly string[] = []): Promise<void> {
    const running = this.runs.get(txId);
    // A run under way may have read the tickets before they were claimed back: one more after it.
    if (running)
      return reclaimed.length > 0 ? running.then(() => this.settle(txId, parties, reclaimed)) : running;
    if (parties) this.inFlight.hold(owner(txId), parties);
    let refs: readonly string[] = parties?.map((p) => p.ticketHash) ?? [];
    const run = this.run(txId, parties !== undefined, new Set(reclaimed), (r) => (refs = r))
      .then(
        (decided) => {
          this.unsettled.clear(txId);
          return decided;
        },
        (err: unknown): Decided => {
          // The tickets stay as they are (`submitted`) and are settled again by their job's next
          // run (woken below) or at the next start: never dropped. A tx whose receipt is missing
          // fails here every poll until it is decided (up to RECEIPT_LOST's bound): logged once a
          // minute.
          const line = { msg: 'tx not settled now', txId, error: (err as Error).message };
          if (this.unsettled.due(txId)) this.logger.warn(line);
          else this.logger.debug(line);
          return { final: [], again: [...refs] };
        },
      )
      .then((decided) => {
        this.inFlight.release(owner(txId));
        this.runs.delete(txId);
        // Woken once the run is over, so a woken job that finds the ticket in a tx settles anew.
        return this.wakeJobs(decided);
      });
    this.runs.set(txId, run);
    return run;
  }

  /**
   * Removes the jobs of decided tickets and wakes the others (jobs asleep while their tickets are in
   * a tx, or claimed for one: RedemptionBatcher.send); a job a worker holds now is retried once.
   */
  async wakeJobs(decided: Decided, retry = true): Promise<void> {
    if (decided.final.length === 0 && decided.again.length === 0) return;
    try {
      const busy = await this.queue.wake(decided.final, decided.again);
      // A job still running (it was about to go to sleep): look again once it has.
      if (retry && (busy.final.length > 0 || busy.woken.length > 0)) {
        setTimeout(() => void this.wakeJobs({ final: busy.final, again: busy.woken }, false), 1_000).unref();
      }
    } catch (err) {
      // Their jobs come back by themselves after their sleep; nothing is lost.
      this.logger.warn({ msg: 'jobs of a settled tx not woken', error: (err as Error).message });
    }
  }

  private async run(
    txId: string,
    held: boolean,
    reclaimed: ReadonlySet<string>,
    onRefs: (refs: readonly string[]) => void,
  ): Promise<Decided> {
    const none: Decided = { final: [], again: [] };
    const record = await this.store.get(txId);
    if (!record) return none;
    onRefs(record.refs);
    const foreign = !this.ours(record);
    if (foreign && !(await this.adoptable(record))) return none;
    if (!held) this.inFlight.hold(owner(txId), await this.tickets.findByHashes(record.refs));
    // Another signer's tx is read from the chain as it stands (`outcome`): no manager follows it.
    const result = foreign ? { record, receipt: null } : await this.txs.wait(txId);
    if (!isRedemptionTx(record.purpose)) return none;
    // Left for the next start: shutdown no longer waits for writes that begin now.
    if (this.stopping) throw new Error('stopping');
    const applying = this.apply(result.record, result.receipt, reclaimed);
    this.applying.add(applying);
    try {
      return await applying;
    } finally {
      this.applying.delete(applying);
    }
  }

  /**
   * Shutdown, before the database closes: no settlement begins writing from now on, and those
   * writing are waited for, up to STOP_WAIT_MS (one still running then is rolled back when the
   * connection closes; its tickets stay in their tx and are settled after the restart).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.applying.size === 0) return;
    await withTimeout(
      Promise.allSettled([...this.applying]),
      STOP_WAIT_MS,
      `settlements still writing after ${STOP_WAIT_MS} ms`,
    ).catch((err: unknown) =>
      this.logger.warn({
        msg: 'settlements cut off at shutdown: settled again after the restart',
        settlements: this.applying.size,
        error: (err as Error).message,
      }),
    );
  }

  /**
   * A queued ticket the chain says is used (its simulation reverted so): when a tx of ours named
   * it before (one given up as RECEIPT_LOST or dropped, its tickets requeued, that a node mined
   * after all), it is claimed back into its newest tx and that tx is settled again, so who used it
   * is decided here as for any ticket of a tx (its redemption found → redeemed, else TICKET_USED).
   * Returns that tx's id, or null when none of ours named it (or another live Redeemer's did):
   * the simulation's verdict stands. A crash after the claim leaves the ticket in that tx, settled
   * by its job's follow-up.
   */
  async reclaimUsed(row: WinningTicketEntity): Promise<string | null> {
    const tx = await this.store.latestByRef(row.ticketHash);
    if (!tx || tx.status === ChainTxStatus.PENDING) return null;
    if (!this.ours(tx) && !(await this.adoptable(tx))) return null;
    if ((await this.tickets.claimAll([row.ticketHash])).length === 0) return null;
    void this.settle(tx.id, [row], [row.ticketHash]);
    return tx.id;
  }

  /** Whether a settlement of `txId` is under way in this process. */
  running(txId: string): boolean {
    return this.runs.has(txId);
  }

  /**
   * Whether this process settles `record`, a tx of another signer: on this chain, and no Redeemer
   * holds that signer's lease (it stopped, its key retired, or its recipients moved here), so
   * nobody else follows it and its tickets would stay in it for ever. Its holder may come back
   * meanwhile: every write of a settlement is a compare-and-set, so the two never record twice.
   */
  private async adoptable(record: ChainTxRecord): Promise<boolean> {
    if (record.chainId === this.txs.chain && !(await this.lease.live(record.signer))) return true;
    this.logger.debug({
      msg: 'tx of another chain, or of a signer a live Redeemer holds: settled there',
      txId: record.id,
      signer: record.signer,
    });
    return false;
  }

  /**
   * A pending tx of another signer that its nonce has not passed: nobody follows it, so if the node
   * does not have it (never broadcast, or forgotten), its tickets would stay in it for ever. Its
   * signed bytes are sent again (RedeemerChain.needsBroadcast), at most once a minute from the
   * first send (a node behind a load balancer may keep saying it does not know a tx it took); a
   * refusal (its signer cannot pay, say) is logged once a minute and tried again then. A look that
   * sends nothing starts no interval: the node may forget the tx a moment later.
   */
  private async sendForeign(record: ChainTxRecord): Promise<void> {
    const last = this.resent.get(record.id);
    if (last !== undefined && Date.now() - last < RESEND_INTERVAL_MS) return;
    try {
      if (!(await this.chain.needsBroadcast(record))) return;
      this.resent.set(record.id, Date.now());
      await this.chain.broadcast(record);
      if (last === undefined) this.wakeAfterSend.add(record.id);
      this.logger.warn({
        msg: 'tx of another signer unknown to the node: its signed bytes broadcast again',
        txId: record.id,
        signer: record.signer,
        nonce: record.nonce.toString(),
      });
    } catch (err) {
      const error = classifyChainError(err);
      this.logger.warn({
        msg: 'tx of another signer not broadcast again',
        txId: record.id,
        code: error.code,
        error: error.message,
      });
    }
  }

  /** Whether this process's signer on this chain sent the tx. */
  ours(record: ChainTxRecord): boolean {
    return record.chainId === this.txs.chain && record.signer === this.txs.address;
  }

  /**
   * What the tickets are decided from. A mined tx needs its receipt: without it (a node lagging
   * behind, or another node behind a load balancer) every ticket would look missed, and the ones
   * our own tx used would end as `failed(TICKET_USED)` with nothing recorded as paid. So the
   * settlement fails instead and is run again (the ticket's job, or recovery at the next start),
   * until the receipt is lost for good (receiptLost): then the tx is `lost`, and who used each
   * ticket is read from the broker's logs. A mined tx without its receipt, or a dropped one (its
   * nonce used by a tx whose receipt was not found), is first looked up once more by every hash it
   * was signed under: one of them may be the one mined.
   *
   * A pending tx of another signer (adoptable) is decided the same way: mined under one of its
   * hashes, or dropped once its signer's nonce on chain has passed it with no receipt, in
   * NONCE_GONE_CHECKS settlements in a row (receipt indexing can lag the nonce), as the TxManager
   * decides its own (and mined only with its confirmations). Until then: null, its tickets stay in it.
   */
  private async outcome(record: ChainTxRecord, receipt: TransactionReceipt | null): Promise<Outcome | null> {
    const as = (r: ChainTxRecord, rc: TransactionReceipt | null, lost = false) => ({
      record: r,
      receipt: rc,
      lost,
    });
    if (record.status === ChainTxStatus.MINED && receipt) return as(record, receipt);
    if (record.status === ChainTxStatus.REVERTED) return as(record, receipt);
    // Read before the receipts: a tx mined between the two reads is then found mined, never dropped.
    const passed =
      record.status === ChainTxStatus.PENDING &&
      (await this.chain.minedTxCount(record.signer)) > record.nonce;
    const late = await this.txs.findReceipt(record.hashes);
    if (late) {
      this.nonceGone.delete(record.id);
      // As final as the TxManager makes its own txs: a block that may still be reorged out waits.
      if (
        record.status === ChainTxStatus.PENDING &&
        !this.txs.confirmed(late, (await this.chain.latestHead()).block)
      ) {
        return null;
      }
      this.logger.warn({
        msg: 'tx found mined under another of its hashes: settled from that receipt',
        txId: record.id,
        was: record.status,
        txHash: late.hash,
        reverted: late.status !== 1,
      });
      return as(
        {
          ...record,
          status: late.status === 1 ? ChainTxStatus.MINED : ChainTxStatus.REVERTED,
          minedHash: late.hash,
          blockNumber: BigInt(late.blockNumber),
          blockHash: late.blockHash,
          gasUsed: late.gasUsed,
          effectiveGasPrice: late.gasPrice,
          errorCode: null,
        },
        late,
      );
    }
    if (record.status === ChainTxStatus.PENDING) {
      const checks = passed ? (this.nonceGone.get(record.id) ?? 0) + 1 : 0;
      if (checks < NONCE_GONE_CHECKS) {
        if (checks === 0) this.nonceGone.delete(record.id);
        else this.nonceGone.set(record.id, checks);
        if (!passed && !this.ours(record)) await this.sendForeign(record);
        return null;
      }
      this.nonceGone.delete(record.id);
      this.logger.warn({
        msg: 'tx of another signer replaced or dropped: its nonce is used on chain, no receipt',
        txId: record.id,
        signer: record.signer,
        nonce: record.nonce.toString(),
      });
      return as({ ...record, status: ChainTxStatus.DROPPED, errorCode: ChainErrorCode.TX_DROPPED }, null);
    }
    if (record.status === ChainTxStatus.DROPPED) return as(record, null);
    if (!(await this.receiptLost(record))) {
      throw new Error(`receipt of mined tx ${record.id} (${record.minedHash}) not found`);
    }
    this.logger.error({
      msg: 'receipt of a mined tx lost (reorged out, or no longer indexed): its tickets are decided from the broker logs',
      txId: record.id,
      txHash: record.minedHash,
      blockNumber: record.blockNumber?.toString(),
    });
    // Dropped unless the logs show it redeemed one of its tickets (apply).
    return as(
      {
        ...record,
        status: ChainTxStatus.DROPPED,
        minedHash: null,
        blockNumber: null,
        blockHash: null,
        gasUsed: null,
        effectiveGasPrice: null,
        errorCode: RECEIPT_LOST,
      },
      null,
      true,
    );
  }

  /**
   * Whether the receipt of mined tx `record` is lost for good: its block is RECEIPT_LOST_BLOCKS
   * under the latest head and it was recorded mined RECEIPT_LOST_MS ago. A node only behind has
   * not reached the block; a node behind a load balancer catches up well within the time.
   */
  private async receiptLost(record: ChainTxRecord): Promise<boolean> {
    const since = record.finishedAt ?? record.createdAt;
    if (Date.now() - since.getTime() < RECEIPT_LOST_MS) return false;
    const head = await this.chain.latestHead();
    return head.block >= (record.blockNumber ?? record.sentBlock) + RECEIPT_LOST_BLOCKS;
  }

  /**
   * Moves the redeemed tickets to `redeemed` (compare-and-set) with the hash of the tx that paid
   * each, and records the amount paid and that tx of those that moved, in `trx`. Returns the
   * hashes that moved.
   */
  private async redeemAll(hits: readonly Hit[], trx: DbTransaction): Promise<Set<string>> {
    const moved = new Set<string>();
    const groups = new Map<string, Hit[]>();
    for (const h of hits) {
      const key = `${h.txId}:${h.txHash}:${h.underpaid}`;
      groups.set(key, [...(groups.get(key) ?? []), h]);
    }
    for (const group of groups.values()) {
      const { txHash, underpaid } = group[0];
      const done = await this.tickets.settleAll(
        group.map((h) => h.row.ticketHash),
        {
          status: WinningTicketStatus.REDEEMED,
          txHash,
          statusReason: underpaid ? RedemptionCode.UNDERPAID : null,
        },
        trx,
      );
      for (const hash of done) moved.add(hash);
    }
    const byTx = new Map<string | null, Hit[]>();
    for (const h of hits) if (moved.has(h.row.ticketHash)) byTx.set(h.txId, [...(byTx.get(h.txId) ?? []), h]);
    for (const [txId, paid] of byTx) {
      await this.redemptions.recordRedeemedAll(
        paid.map((h) => ({ ticketHash: h.row.ticketHash, amountPaid: h.amountPaid })),
        txId,
        trx,
      );
    }
    return moved;
  }

  /**
   * Who used `row`, a ticket of `settling` found used on chain, when one of our own txs may have:
   * `settling` itself when no receipt of it was read (`unread`: its receipt lost, or dropped), or an
   * earlier tx naming the ticket (one given up as RECEIPT_LOST or dropped, its tickets requeued,
   * that a node mined after all). Read from the broker's `WinningTicketRedeemed` logs: `by` is the
   * redemption found, `tx` the tx of ours signed under its tx hash; `by` without `tx`: someone else
   * redeemed it (our recipient was paid all the same); neither: its redemption was not found.
   */
  private async ownRedemption(
    row: WinningTicketEntity,
    settling: ChainTxRecord,
    unread: boolean,
    logs: Map<string, Promise<Map<string, FoundRedemption>>>,
  ): Promise<{ by?: FoundRedemption; tx?: ChainTxRecord }> {
    const candidates = [
      ...(unread ? [settling] : []),
      ...(await this.store.allByRef(row.ticketHash)).filter((tx) => tx.id !== settling.id),
    ];
    // Searched from the first of our txs that revealed the ticket: whoever else used it copied it
    // from one of them (only the Recipient knows recipientRand before that).
    let from = searchFrom(settling);
    for (const tx of candidates) if (searchFrom(tx) < from) from = searchFrom(tx);
    const key = `${row.sender}:${row.recipient}:${from}`;
    if (!logs.has(key)) logs.set(key, this.chain.calls().redemptionsOf(row.sender, row.recipient, from));
    const by = (await logs.get(key)!).get(row.ticketHash.toLowerCase());
    if (!by) return {};
    const txHash = by.txHash.toLowerCase();
    return { by, tx: candidates.find((tx) => tx.hashes.some((h) => h.toLowerCase() === txHash)) };
  }

  /** Each of `hashes` moved by `move` with `note` (RedemptionRepository.moveWithCode) in `trx`; those that moved. */
  private async moveEach(
    hashes: readonly string[],
    move: (hash: string, trx: DbTransaction) => Promise<boolean>,
    note: RedemptionNote,
    trx: DbTransaction,
  ): Promise<string[]> {
    const moved: string[] = [];
    for (const hash of hashes) {
      if (await this.redemptions.moveWithCode(hash, (t) => move(hash, t), note, trx)) moved.push(hash);
    }
    return moved;
  }

  private async apply(
    found: ChainTxRecord,
    minedReceipt: TransactionReceipt | null,
    reclaimed: ReadonlySet<string>,
  ): Promise<Decided> {
    const outcome = await this.outcome(found, minedReceipt);
    // Another signer's tx still pending: its tickets stay in it, looked at again by their jobs;
    // woken if it was just sent again (they may sleep the long in-tx sleep of its old signer).
    if (!outcome) return { final: [], again: this.wakeAfterSend.delete(found.id) ? [...found.refs] : [] };
    this.resent.delete(found.id);
    let { record } = outcome;
    const calls = this.chain.calls();
    const redeemed =
      record.status === ChainTxStatus.MINED && outcome.receipt
        ? calls.redeemedIn(outcome.receipt)
        : new Map<string, RedeemedTicket>();
    const [rows, newest] = await Promise.all([
      this.tickets.findByHashes(record.refs),
      this.store.latestIdsByRefs(record.refs),
    ]);
    // Read after the rows: a claim they show is seen here too.
    const claimedLater = await this.tickets.claimedAfter(record.refs, record.id);
    // Only tickets still in a tx, and only by their newest tx, are decided here; not one this tx put
    // back in line that a batch has claimed again since (its tx not stored yet): a second settlement
    // of this tx (a ticket of it still undecided, recovery) would put it back in line while that
    // batch sends it. One claimed back into this tx by reclaimUsed is this tx's.
    const mine = rows.filter(
      (r) =>
        IN_TX_STATUSES.includes(r.status) &&
        (newest.get(r.ticketHash) ?? record.id) === record.id &&
        (!claimedLater.has(r.ticketHash) || reclaimed.has(r.ticketHash)),
    );

    // Each ticket is decided from the chain first: in the receipt → redeemed; else (reverted,
    // dropped, or a batch item that failed: rare, one at a time) used → redeemed by the tx the
    // broker's logs show paid it (one of our own, mined after all, or one not ours), else
    // failed(TICKET_USED); unused → back in line.
    const hits: Hit[] = [];
    const used: string[] = [];
    const back: WinningTicketEntity[] = [];
    /** Earlier txs of ours found to have paid a ticket of this one: their rows are corrected too. */
    const paidEarlier = new Map<string, { tx: ChainTxRecord; by: FoundRedemption }>();
    const logs = new Map<string, Promise<Map<string, FoundRedemption>>>();
    for (const row of mine) {
      const hash = row.ticketHash;
      const hit = redeemed.get(hash.toLowerCase());
      if (hit) {
        hits.push(hitOf(row, hit.amountPaid, record.id, record.minedHash));
        continue;
      }
      if (!(await calls.isUsed(hash))) {
        back.push(row);
        continue;
      }
      const { by, tx } = await this.ownRedemption(row, found, outcome.receipt === null, logs);
      // Paid by an earlier tx of ours that is pending again (reopened after a reorganisation): not
      // final until that one is; the ticket stays in its tx, settled again by its job.
      if (by && tx && tx.id !== found.id && tx.status === ChainTxStatus.PENDING) continue;
      if (by && tx) {
        hits.push(hitOf(row, by.amountPaid, tx.id, by.txHash));
        if (tx.id === found.id) {
          record = {
            ...found,
            status: ChainTxStatus.MINED,
            minedHash: by.txHash,
            blockNumber: by.blockNumber,
            blockHash: by.blockHash,
            errorCode: null,
          };
        } else {
          paidEarlier.set(tx.id, { tx, by });
          this.logger.warn({
            msg: 'ticket found used was paid by an earlier tx of ours, mined after it was given up: redeemed by that tx',
            ticketHash: hash,
            txId: record.id,
            paidBy: tx.id,
            txHash: by.txHash,
            was: `${tx.status}${tx.errorCode ? ` (${tx.errorCode})` : ''}`,
          });
        }
        continue;
      }
      if (by) {
        // Redeemed by a tx not ours (our calldata copied from a public mempool, or the recipient's
        // own tooling): the broker paid our recipient, so the ticket is redeemed by that tx, once its
        // block is as final as our own txs are made; until then it stays in its tx.
        if (!this.txs.confirmedAt(by.blockNumber, (await this.chain.latestHead()).block)) continue;
        hits.push(hitOf(row, by.amountPaid, null, by.txHash));
        this.logger.warn({
          msg: 'ticket redeemed by a tx not ours: our recipient was paid by it',
          ticketHash: hash,
          txId: record.id,
          paidBy: by.txHash,
          amountPaid: by.amountPaid.toString(),
        });
        continue;
      }
      // Used, but no redemption of it is in the broker's logs since our first tx revealed it.
      this.logger.warn({
        msg: 'ticket used on chain with no redemption found: recorded failed',
        ticketHash: hash,
        txId: record.id,
        lost: outcome.lost,
      });
      used.push(hash);
    }
    const missed =
      record.status === ChainTxStatus.MINED
        ? RedemptionCode.BATCH_ITEM_FAILED
        : record.status === ChainTxStatus.REVERTED
          ? RedemptionCode.TX_REVERTED
          : RedemptionCode.TX_DROPPED;
    // A batch item that failed may have run out of gas: the next group is estimated afresh.
    if (missed === RedemptionCode.BATCH_ITEM_FAILED) for (const row of back) this.gas.forget(row.recipient);

    // The tx's row, when the chain says otherwise than it, and every ticket's move with its
    // `redemption` row commit in one transaction: a settlement cut short leaves them all as they were.
    const corrected = record.status !== found.status || record.minedHash !== found.minedHash;
    const decided: Decided = { final: [], again: [] };
    if (!corrected && mine.length === 0) return decided;
    const moved = await this.unitOfWork.run(async (trx) => {
      // The tx's row must still be as it was read, and is held so until this commits: reopened
      // meanwhile (a reorganisation took it off the chain), or another signer's tx finished or
      // re-signed by its own Redeemer, back since, nothing is written and the next settlement
      // reads it again; a reopen after this commit finds what it wrote.
      if (!(await this.store.holdsVersion(found.id, found, trx))) {
        throw new Error(`tx ${found.id} of ${found.signer} changed while settled`);
      }
      if (corrected) await this.store.correct(found.id, found, finishOf(record), trx);
      // An earlier tx that paid a ticket was mined: its row says so (if it changed since it was read,
      // its own settlement wrote it; a pending one is its TxManager's to finish).
      for (const { tx, by } of paidEarlier.values()) {
        if (tx.status === ChainTxStatus.PENDING || tx.minedHash === by.txHash) continue;
        await this.store.correct(
          tx.id,
          tx,
          {
            status: ChainTxStatus.MINED,
            minedHash: by.txHash,
            blockNumber: by.blockNumber,
            blockHash: by.blockHash,
          },
          trx,
        );
      }
      return {
        redeemed: hits.length === 0 ? new Set<string>() : await this.redeemAll(hits, trx),
        used: await this.moveEach(
          used,
          (hash, t) =>
            this.tickets.settle(
              hash,
              { status: WinningTicketStatus.FAILED, statusReason: RedemptionCode.TICKET_USED },
              t,
            ),
          { code: RedemptionCode.TICKET_USED },
          trx,
        ),
        back: await this.moveEach(
          back.map((r) => r.ticketHash),
          (hash, t) => this.tickets.requeue(hash, missed, t),
          { code: missed, retry: true, error: record.errorCode },
          trx,
        ),
      };
    });

    if (outcome.lost) this.metrics.receiptsLost.inc({ outcome: record.status });
    for (const { row, amountPaid, underpaid } of hits.filter((h) => moved.redeemed.has(h.row.ticketHash))) {
      decided.final.push(row.ticketHash);
      this.metrics.outcomes.inc({
        status: WinningTicketStatus.REDEEMED,
        code: underpaid ? RedemptionCode.UNDERPAID : 'OK',
      });
      this.metrics.faceValueRedeemed.inc(Number(row.faceValue));
      this.metrics.amountPaid.inc(Number(amountPaid));
      this.metrics.shared.redeemed(row.sender, amountPaid);
      if (underpaid) {
        this.logger.warn({
          msg: 'ticket redeemed below face value',
          ticketHash: row.ticketHash,
          faceValue: row.faceValue.toString(),
          amountPaid: amountPaid.toString(),
        });
      }
    }
    for (const hash of moved.used) {
      decided.final.push(hash);
      this.metrics.outcomes.inc({ status: WinningTicketStatus.FAILED, code: RedemptionCode.TICKET_USED });
      this.metrics.shared.redemptionError(RedemptionCode.TICKET_USED);
    }
    for (const hash of moved.back) {
      decided.again.push(hash);
      this.metrics.retries.inc({ code: missed });
      this.logger.warn({
        msg: 'ticket not redeemed by its tx; queued again',
        ticketHash: hash,
        txId: record.id,
        code: missed,
      });
    }
    return decided;
  }
}

/** What a settlement decides its tickets from. */
interface Outcome {
  /** The tx as the chain shows it (it may differ from its stored row: see `outcome`). */
  record: ChainTxRecord;
  receipt: TransactionReceipt | null;
  /** Mined, but its receipt is lost for good: its used tickets are looked up in the broker's logs. */
  lost: boolean;
}

/** A ticket of the tx found redeemed by a tx of ours: in its receipt's, or the broker's, `WinningTicketRedeemed` logs. */
interface Hit {
  row: WinningTicketEntity;
  amountPaid: bigint;
  underpaid: boolean;
  /**
   * The tx of ours that paid it (the one settled, or an earlier one), null for a tx not ours, and
   * the hash it was mined under.
   */
  txId: string | null;
  txHash: string | null;
}

const hitOf = (
  row: WinningTicketEntity,
  amountPaid: bigint,
  txId: string | null,
  txHash: string | null,
): Hit => ({
  row,
  amountPaid,
  underpaid: amountPaid < row.faceValue,
  txId,
  txHash,
});

/**
 * Where the broker's logs are searched for the tickets of a lost tx: RECEIPT_LOST_BLOCKS before it
 * was last sent or mined (its tickets were found unused when it was built, a little before).
 */
function searchFrom(record: ChainTxRecord): bigint {
  const at =
    record.blockNumber !== null && record.blockNumber < record.sentBlock
      ? record.blockNumber
      : record.sentBlock;
  return at > RECEIPT_LOST_BLOCKS ? at - RECEIPT_LOST_BLOCKS : 0n;
}

/** A final record as its row's fields (TxStore.correct). */
function finishOf(record: ChainTxRecord): TxFinish {
  if (record.status === ChainTxStatus.PENDING) throw new Error(`tx ${record.id} is not final`);
  return {
    status: record.status,
    minedHash: record.minedHash ?? undefined,
    blockNumber: record.blockNumber ?? undefined,
    blockHash: record.blockHash ?? undefined,
    gasUsed: record.gasUsed ?? undefined,
    effectiveGasPrice: record.effectiveGasPrice ?? undefined,
    errorCode: record.errorCode ?? undefined,
  };
}

const owner = (txId: string) => `tx:${txId}`;
