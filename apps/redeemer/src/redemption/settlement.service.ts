import { Injectable, Logger } from '@nestjs/common';
import type { TransactionReceipt } from 'ethers';
import { ChainTxStatus, TxManager, TxStore, type ChainTxRecord, type RedeemedTicket } from '#app/chain';
import { withTimeout } from '#app/core';
import {
  IN_TX_STATUSES,
  RedemptionRepository,
  UnitOfWork,
  WinningTicketRepository,
  WinningTicketStatus,
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

/** The tickets of a tx, when the caller already has them (so the hold is taken at once). */
export type TxParties = readonly HeldTicket[];

/** Whose jobs a settlement must tell: tickets decided for good, and tickets to look at again. */
interface Decided {
  final: string[];
  /** Put back in line, or still in the tx because the settlement failed. */
  again: string[];
}

/**
 * Turns a redemption tx's final status into its tickets' final (or retry) statuses. Per ticket:
 * in the receipt's `WinningTicketRedeemed` logs → `redeemed`; otherwise (reverted, dropped, or a
 * batch item that failed silently) → `failed(TICKET_USED)` if someone else used it, else back to
 * `queued` for another attempt. Idempotent and safe to run again after a crash: every change is a
 * compare-and-set, and only the ticket's newest tx may decide it. The rows are read and written
 * per tx, not per ticket (one read of the tickets, one of their newest txs, one move of the redeemed
 * ones, one insert of their redemptions).
 *
 * A ticket's move and its `redemption` row (the amount paid, the code, the retry) commit in one
 * database transaction, and the row is written only for the tickets that moved: a settlement cut
 * short (crash, shutdown, database lost) leaves its tickets in their tx, so the next settlement of
 * the tx (the ticket's follow-up, or recovery after a restart) decides them with their rows.
 *
 * A ticket's job sleeps while its tx is in flight (it is not polled): once the settlement has
 * decided a ticket, its job is removed (final) or woken (back in line), or, when the settlement
 * failed, woken so that its next run settles the tx again.
 */
@Injectable()
export class SettlementService {
  private readonly logger = new Logger(SettlementService.name);
  private readonly runs = new Map<string, Promise<void>>();
  /** Settlements writing their outcome now: what `stop` waits for. */
  private readonly applying = new Set<Promise<Decided>>();
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
  ) {}

  /**
   * Settles tx `txId` once (concurrent calls share the run). Resolves, never rejects, when its
   * tickets are decided or the attempt failed (stopping, chain or database down).
   */
  settle(txId: string, parties?: TxParties): Promise<void> {
    const running = this.runs.get(txId);
    if (running) return running;
    if (parties) this.inFlight.hold(owner(txId), parties);
    let refs: readonly string[] = parties?.map((p) => p.ticketHash) ?? [];
    const run = this.run(txId, parties !== undefined, (r) => (refs = r))
      .catch((err: unknown): Decided => {
        // The tickets stay as they are (`submitted`) and are settled again by their job's next
        // run (woken below) or at the next start: never dropped.
        this.logger.warn({ msg: 'tx not settled now', txId, error: (err as Error).message });
        return { final: [], again: [...refs] };
      })
      .then((decided) => {
        this.inFlight.release(owner(txId));
        this.runs.delete(txId);
        // Woken once the run is over, so a woken job that finds the ticket in a tx settles anew.
        return this.wake(decided);
      });
    this.runs.set(txId, run);
    return run;
  }

  /** Removes the jobs of decided tickets and wakes the others; a job a worker holds now is retried once. */
  private async wake(decided: Decided, retry = true): Promise<void> {
    if (decided.final.length === 0 && decided.again.length === 0) return;
    try {
      const busy = await this.queue.wake(decided.final, decided.again);
      // A job still running (it was about to go to sleep): look again once it has.
      if (retry && (busy.final.length > 0 || busy.woken.length > 0)) {
        setTimeout(() => void this.wake({ final: busy.final, again: busy.woken }, false), 1_000).unref();
      }
    } catch (err) {
      // Their jobs come back by themselves after their sleep; nothing is lost.
      this.logger.warn({ msg: 'jobs of a settled tx not woken', error: (err as Error).message });
    }
  }

  private async run(
    txId: string,
    held: boolean,
    onRefs: (refs: readonly string[]) => void,
  ): Promise<Decided> {
    const none: Decided = { final: [], again: [] };
    const record = await this.store.get(txId);
    if (!record) return none;
    onRefs(record.refs);
    if (!this.ours(record)) {
      // Another signer's or another chain's tx (key rotated, shared database): its outcome cannot
      // be read here, and deciding its tickets from this chain's view would be wrong.
      this.logger.warn({
        msg: 'tx of another signer or chain: not settled here',
        txId,
        signer: record.signer,
      });
      return none;
    }
    if (!held) this.inFlight.hold(owner(txId), await this.tickets.findByHashes(record.refs));
    const result = await this.txs.wait(txId);
    if (record.purpose !== 'redeem' && record.purpose !== 'batch-redeem') return none;
    // Left for the next start: shutdown no longer waits for writes that begin now.
    if (this.stopping) throw new Error('stopping');
    const applying = this.apply(result.record, result.receipt);
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

  /** Whether a settlement of `txId` is under way in this process. */
  running(txId: string): boolean {
    return this.runs.has(txId);
  }

  /** Whether this process's signer on this chain sent the tx. */
  ours(record: ChainTxRecord): boolean {
    return record.chainId === this.txs.chain && record.signer === this.txs.address;
  }

  /**
   * What the tickets are decided from. A mined tx needs its receipt: without it (a node lagging
   * behind, or another node behind a load balancer) every ticket would look missed, and the ones
   * our own tx used would end as `failed(TICKET_USED)` with nothing recorded as paid. So the
   * settlement fails instead and is run again (the ticket's job, or recovery at the next start).
   * A dropped tx (its nonce used by a tx whose receipt was not found) is looked up once more by
   * every hash it was signed under: one of them may have been mined after all.
   */
  private async outcome(
    record: ChainTxRecord,
    receipt: TransactionReceipt | null,
  ): Promise<{ record: ChainTxRecord; receipt: TransactionReceipt | null }> {
    if (record.status === ChainTxStatus.MINED) {
      if (!receipt) throw new Error(`receipt of mined tx ${record.id} (${record.minedHash}) not found`);
      return { record, receipt };
    }
    if (record.status !== ChainTxStatus.DROPPED) return { record, receipt };
    const late = await this.txs.findReceipt(record.hashes);
    if (!late) return { record, receipt };
    this.logger.warn({
      msg: 'dropped tx was mined after all: settled from its receipt',
      txId: record.id,
      txHash: late.hash,
      reverted: late.status !== 1,
    });
    return {
      record: {
        ...record,
        status: late.status === 1 ? ChainTxStatus.MINED : ChainTxStatus.REVERTED,
        minedHash: late.hash,
        blockNumber: BigInt(late.blockNumber),
      },
      receipt: late,
    };
  }

  /**
   * Moves the tickets `record` redeemed to `redeemed` (compare-and-set) and records the amount paid
   * of those that moved, in one database transaction. Returns the hashes that moved.
   */
  private redeemAll(record: ChainTxRecord, hits: readonly Hit[]): Promise<Set<string>> {
    return this.unitOfWork.run(async (trx) => {
      const moved = new Set<string>();
      for (const underpaid of [false, true]) {
        const group = hits.filter((h) => h.underpaid === underpaid).map((h) => h.row.ticketHash);
        if (group.length === 0) continue;
        const done = await this.tickets.settleAll(
          group,
          {
            status: WinningTicketStatus.REDEEMED,
            txHash: record.minedHash,
            statusReason: underpaid ? RedemptionCode.UNDERPAID : null,
          },
          trx,
        );
        for (const hash of done) moved.add(hash);
      }
      await this.redemptions.recordRedeemedAll(
        hits
          .filter((h) => moved.has(h.row.ticketHash))
          .map((h) => ({ ticketHash: h.row.ticketHash, amountPaid: h.amountPaid })),
        record.id,
        trx,
      );
      return moved;
    });
  }

  private async apply(found: ChainTxRecord, minedReceipt: TransactionReceipt | null): Promise<Decided> {
    const { record, receipt } = await this.outcome(found, minedReceipt);
    const calls = this.chain.calls();
    const redeemed =
      record.status === ChainTxStatus.MINED && receipt
        ? calls.redeemedIn(receipt)
        : new Map<string, RedeemedTicket>();
    const missed =
      record.status === ChainTxStatus.MINED
        ? RedemptionCode.BATCH_ITEM_FAILED
        : record.status === ChainTxStatus.REVERTED
          ? RedemptionCode.TX_REVERTED
          : RedemptionCode.TX_DROPPED;
    const [rows, newest] = await Promise.all([
      this.tickets.findByHashes(record.refs),
      this.store.latestIdsByRefs(record.refs),
    ]);
    // Only tickets still in a tx, and only by their newest tx, are decided here.
    const mine = rows.filter(
      (r) => IN_TX_STATUSES.includes(r.status) && (newest.get(r.ticketHash) ?? record.id) === record.id,
    );
    const decided: Decided = { final: [], again: [] };

    const hits = mine.flatMap((row): Hit[] => {
      const hit = redeemed.get(row.ticketHash.toLowerCase());
      return hit ? [{ row, amountPaid: hit.amountPaid, underpaid: hit.amountPaid < row.faceValue }] : [];
    });
    const moved = hits.length === 0 ? new Set<string>() : await this.redeemAll(record, hits);
    const settled = hits.filter((h) => moved.has(h.row.ticketHash));
    for (const { row, amountPaid, underpaid } of settled) {
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

    // Not in the receipt (reverted, dropped, or a batch item that failed): rare, one at a time.
    const hit = new Set(hits.map((h) => h.row.ticketHash));
    for (const row of mine) {
      const hash = row.ticketHash;
      if (hit.has(hash)) continue;
      if (await calls.isUsed(hash)) {
        const moved = await this.unitOfWork.run(async (trx) => {
          const done = await this.tickets.settle(
            hash,
            { status: WinningTicketStatus.FAILED, statusReason: RedemptionCode.TICKET_USED },
            trx,
          );
          if (done) await this.redemptions.recordCode(hash, RedemptionCode.TICKET_USED, trx);
          return done;
        });
        if (moved) {
          decided.final.push(hash);
          this.metrics.outcomes.inc({ status: WinningTicketStatus.FAILED, code: RedemptionCode.TICKET_USED });
          this.metrics.shared.redemptionError(RedemptionCode.TICKET_USED);
        }
        continue;
      }
      // A batch item that failed may have run out of gas: the next group is estimated afresh.
      if (missed === RedemptionCode.BATCH_ITEM_FAILED) this.gas.forget(row.recipient);
      const moved = await this.unitOfWork.run(async (trx) => {
        const done = await this.tickets.requeue(hash, missed, trx);
        if (done) await this.redemptions.recordRetry(hash, missed, record.errorCode, trx);
        return done;
      });
      if (moved) {
        decided.again.push(hash);
        this.metrics.retries.inc({ code: missed });
        this.logger.warn({
          msg: 'ticket not redeemed by its tx; queued again',
          ticketHash: hash,
          txId: record.id,
          code: missed,
        });
      }
    }
    return decided;
  }
}

/** A ticket of the tx found in its receipt's `WinningTicketRedeemed` logs. */
interface Hit {
  row: WinningTicketEntity;
  amountPaid: bigint;
  underpaid: boolean;
}

const owner = (txId: string) => `tx:${txId}`;
