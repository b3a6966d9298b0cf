import { Injectable, Logger } from '@nestjs/common';
import type { TransactionReceipt } from 'ethers';
import { ChainTxStatus, TxManager, TxStore, type ChainTxRecord, type RedeemedTicket } from '#app/chain';
import {
  IN_TX_STATUSES,
  RedemptionRepository,
  WinningTicketRepository,
  WinningTicketStatus,
  type WinningTicketEntity,
} from '#app/database';
import { RedeemerMetrics } from '../metrics/redeemer.metrics.js';
import { InFlight, type HeldTicket } from './in-flight.js';
import { RedeemerChain } from './redeemer-chain.js';
import { RedemptionCode } from './redemption-code.js';

/** The tickets of a tx, when the caller already has them (so the hold is taken at once). */
export type TxParties = readonly HeldTicket[];

/**
 * Turns a redemption tx's final status into its tickets' final (or retry) statuses. Per ticket:
 * in the receipt's `WinningTicketRedeemed` logs → `redeemed`; otherwise (reverted, dropped, or a
 * batch item that failed silently) → `failed(TICKET_USED)` if someone else used it, else back to
 * `queued` for another attempt. Idempotent and safe to run again after a crash: every change is a
 * compare-and-set, and only the ticket's newest tx may decide it.
 */
@Injectable()
export class SettlementService {
  private readonly logger = new Logger(SettlementService.name);
  private readonly runs = new Map<string, Promise<void>>();

  constructor(
    private readonly txs: TxManager,
    private readonly store: TxStore,
    private readonly tickets: WinningTicketRepository,
    private readonly redemptions: RedemptionRepository,
    private readonly chain: RedeemerChain,
    private readonly inFlight: InFlight,
    private readonly metrics: RedeemerMetrics,
  ) {}

  /**
   * Settles tx `txId` once (concurrent calls share the run). Resolves, never rejects, when its
   * tickets are decided or the attempt failed (stopping, chain or database down).
   */
  settle(txId: string, parties?: TxParties): Promise<void> {
    const running = this.runs.get(txId);
    if (running) return running;
    if (parties) this.inFlight.hold(owner(txId), parties);
    const run = this.run(txId, parties !== undefined)
      .catch((err: unknown) =>
        // The tickets stay as they are (`submitted`) and are settled again by the next job run
        // or at the next start: never dropped.
        this.logger.warn({ msg: 'tx not settled now', txId, error: (err as Error).message }),
      )
      .finally(() => {
        this.inFlight.release(owner(txId));
        this.runs.delete(txId);
      });
    this.runs.set(txId, run);
    return run;
  }

  private async run(txId: string, held: boolean): Promise<void> {
    const record = await this.store.get(txId);
    if (!record) return;
    if (!this.ours(record)) {
      // Another signer's or another chain's tx (key rotated, shared database): its outcome cannot
      // be read here, and deciding its tickets from this chain's view would be wrong.
      this.logger.warn({
        msg: 'tx of another signer or chain: not settled here',
        txId,
        signer: record.signer,
      });
      return;
    }
    const rows = await this.tickets.findByHashes(record.refs);
    if (!held) this.inFlight.hold(owner(txId), rows);
    const result = await this.txs.wait(txId);
    if (record.purpose !== 'redeem' && record.purpose !== 'batch-redeem') return;
    await this.apply(result.record, result.receipt, rows);
  }

  /** Whether a settlement of `txId` is under way in this process. */
  running(txId: string): boolean {
    return this.runs.has(txId);
  }

  /** Whether this process's signer on this chain sent the tx. */
  ours(record: ChainTxRecord): boolean {
    return record.chainId === this.txs.chain && record.signer === this.txs.address;
  }

  private async apply(
    record: ChainTxRecord,
    receipt: TransactionReceipt | null,
    rows: readonly WinningTicketEntity[],
  ): Promise<void> {
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
    for (const row of rows) {
      const hash = row.ticketHash;
      const current = await this.tickets.findByHash(hash);
      if (!current || !IN_TX_STATUSES.includes(current.status)) continue;
      const newest = await this.store.latestByRef(hash);
      if (newest && newest.id !== record.id) continue;

      const hit = redeemed.get(hash.toLowerCase());
      if (hit) {
        const underpaid = hit.amountPaid < current.faceValue;
        const moved = await this.tickets.settle(hash, {
          status: WinningTicketStatus.REDEEMED,
          txHash: record.minedHash,
          statusReason: underpaid ? RedemptionCode.UNDERPAID : null,
        });
        if (!moved) continue;
        await this.redemptions.recordRedeemed(hash, record.id, hit.amountPaid);
        this.metrics.outcomes.inc({
          status: WinningTicketStatus.REDEEMED,
          code: underpaid ? RedemptionCode.UNDERPAID : 'OK',
        });
        this.metrics.faceValueRedeemed.inc(Number(current.faceValue));
        this.metrics.amountPaid.inc(Number(hit.amountPaid));
        this.metrics.shared.redeemed(current.sender, hit.amountPaid);
        if (underpaid) {
          this.logger.warn({
            msg: 'ticket redeemed below face value',
            ticketHash: hash,
            faceValue: current.faceValue.toString(),
            amountPaid: hit.amountPaid.toString(),
          });
        }
        continue;
      }

      if (await calls.isUsed(hash)) {
        const moved = await this.tickets.settle(hash, {
          status: WinningTicketStatus.FAILED,
          statusReason: RedemptionCode.TICKET_USED,
        });
        if (moved) {
          await this.redemptions.recordCode(hash, RedemptionCode.TICKET_USED);
          this.metrics.outcomes.inc({ status: WinningTicketStatus.FAILED, code: RedemptionCode.TICKET_USED });
          this.metrics.shared.redemptionError(RedemptionCode.TICKET_USED);
        }
        continue;
      }
      const moved = await this.tickets.requeue(hash, missed);
      if (moved) {
        await this.redemptions.recordRetry(hash, missed, record.errorCode);
        this.metrics.retries.inc({ code: missed });
        this.logger.warn({
          msg: 'ticket not redeemed by its tx; queued again',
          ticketHash: hash,
          txId: record.id,
          code: missed,
        });
      }
    }
  }
}

const owner = (txId: string) => `tx:${txId}`;
