import { ContractRevert } from '#app/chain';
import { WinningTicketStatus } from '#app/database';

/**
 * Why a ticket is waiting, being retried, or ended as it did. Stored in `winning_ticket.status_reason`
 * and used as metric labels: stable, never renamed.
 */
export enum RedemptionCode {
  // Waiting: the ticket is fine, the moment is not. No attempt is counted.
  PARAMS_NOT_EXPIRED = 'PARAMS_NOT_EXPIRED',
  ROUND_NOT_INITIALIZED = 'ROUND_NOT_INITIALIZED',
  /**
   * The round ends before a tx sent now would surely be mined (REDEEMER_ROUND_END_MARGIN_BLOCKS),
   * and the next one reverts every redemption until initialized: wait for that.
   */
  ROUND_ENDING = 'ROUND_ENDING',
  SYSTEM_PAUSED = 'SYSTEM_PAUSED',
  GAS_PRICE_TOO_HIGH = 'GAS_PRICE_TOO_HIGH',
  TX_COST_TOO_HIGH = 'TX_COST_TOO_HIGH',
  INSUFFICIENT_FUNDS = 'INSUFFICIENT_FUNDS',
  SENDER_UNLOCKED = 'SENDER_UNLOCKED',
  /** The sender's funds are committed to its txs in flight: the ticket waits for those to settle. */
  SENDER_BUSY = 'SENDER_BUSY',
  IN_PROGRESS = 'IN_PROGRESS',
  /**
   * Its recipient is another Redeemer's (one queue under one REDIS_PREFIX): the job is put back for
   * that one to take. Only a job's delay reason, never a row's status_reason.
   */
  NOT_SERVED = 'NOT_SERVED',
  AWAITING_CONFIRMATION = 'AWAITING_CONFIRMATION',
  /** Redeemed by a tx a reorganisation then took off the chain: in that tx again, followed anew. */
  TX_REORGED = 'TX_REORGED',
  CREATION_ROUND_NOT_INITIALIZED = 'CREATION_ROUND_NOT_INITIALIZED',

  // Retried with back-off.
  TX_REVERTED = 'TX_REVERTED',
  TX_DROPPED = 'TX_DROPPED',
  BATCH_ITEM_FAILED = 'BATCH_ITEM_FAILED',
  SIMULATION_REVERTED = 'SIMULATION_REVERTED',
  RECIPIENT_NOT_REGISTERED = 'RECIPIENT_NOT_REGISTERED',
  CHAIN_ERROR = 'CHAIN_ERROR',
  /** Left in `submitting` by a crash before its tx was stored: put back in line. */
  ORPHANED = 'ORPHANED',

  // Final.
  TICKET_USED = 'TICKET_USED',
  TICKET_EXPIRED = 'TICKET_EXPIRED',
  INVALID_SIGNATURE = 'INVALID_SIGNATURE',
  INVALID_RECIPIENT_RAND = 'INVALID_RECIPIENT_RAND',
  INVALID_AUX_DATA = 'INVALID_AUX_DATA',
  NO_BLOCK_HASH = 'NO_BLOCK_HASH',
  TICKET_DID_NOT_WIN = 'TICKET_DID_NOT_WIN',
  INVALID_TICKET = 'INVALID_TICKET',
  /** Redeemed, but the recipient got less than face value (the sender ran short). */
  UNDERPAID = 'UNDERPAID',
}

/** What to do with a ticket after a check. */
export type Verdict =
  | { kind: 'final'; status: WinningTicketStatus.FAILED | WinningTicketStatus.EXPIRED; code: RedemptionCode }
  /** `delayMs`: when a new look makes sense, if known (else the poll interval). */
  | { kind: 'wait'; code: RedemptionCode; delayMs?: number }
  | { kind: 'retry'; code: RedemptionCode; error?: string };

export const failed = (code: RedemptionCode): Verdict => ({
  kind: 'final',
  status: WinningTicketStatus.FAILED,
  code,
});
export const expired = (): Verdict => ({
  kind: 'final',
  status: WinningTicketStatus.EXPIRED,
  code: RedemptionCode.TICKET_EXPIRED,
});
export const wait = (code: RedemptionCode, delayMs?: number): Verdict => ({ kind: 'wait', code, delayMs });
export const retry = (code: RedemptionCode, error?: string): Verdict => ({ kind: 'retry', code, error });

/**
 * Maps a TicketBroker revert reason (TICKETBROKER.md §4.9) seen while simulating one ticket to a
 * verdict. Only reasons that can never change for this ticket are final; the rest wait or retry,
 * and a ticket that never becomes redeemable ends `expired` once its validity window closes.
 */
export function verdictForRevert(reason: string | undefined, creationRoundPast: boolean): Verdict {
  const r = reason ?? '';
  const R = ContractRevert;
  if (r === R.TICKET_USED) return failed(RedemptionCode.TICKET_USED);
  if (r === R.TICKET_EXPIRED) return expired();
  if (r === R.ROUND_NOT_INITIALIZED) return wait(RedemptionCode.ROUND_NOT_INITIALIZED);
  if (r === R.SYSTEM_PAUSED) return wait(RedemptionCode.SYSTEM_PAUSED);
  if (r === R.SENDER_UNLOCKED) return wait(RedemptionCode.SENDER_UNLOCKED);
  if (r === R.NO_DEPOSIT_OR_RESERVE) return wait(RedemptionCode.INSUFFICIENT_FUNDS);
  if (r === R.BLOCK_HASH_MISSING) {
    // A round before the current one that never got a hash never will (go-livepeer #2358).
    return creationRoundPast
      ? failed(RedemptionCode.NO_BLOCK_HASH)
      : wait(RedemptionCode.CREATION_ROUND_NOT_INITIALIZED);
  }
  if (r.startsWith(R.AUX_DATA_LENGTH_PREFIX) || r === R.BLOCK_HASH_INVALID) {
    return failed(RedemptionCode.INVALID_AUX_DATA);
  }
  if (r === R.RECIPIENT_RAND_MISMATCH) return failed(RedemptionCode.INVALID_RECIPIENT_RAND);
  if (r === R.SIGNATURE_LENGTH || r.startsWith(R.ECDSA_PREFIX) || r === R.INVALID_SIGNATURE) {
    return failed(RedemptionCode.INVALID_SIGNATURE);
  }
  if (r === R.TICKET_DID_NOT_WIN) return failed(RedemptionCode.TICKET_DID_NOT_WIN);
  if (r === R.NULL_RECIPIENT || r === R.NULL_SENDER) return failed(RedemptionCode.INVALID_TICKET);
  if (r === R.NOT_REGISTERED) return retry(RedemptionCode.RECIPIENT_NOT_REGISTERED, r);
  return retry(
    RedemptionCode.SIMULATION_REVERTED,
    reason ? `execution reverted: ${reason}` : 'execution reverted',
  );
}
