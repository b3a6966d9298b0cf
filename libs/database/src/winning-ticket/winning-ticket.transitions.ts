import { WinningTicketStatus } from './winning-ticket.entity.js';

const { RECEIVED, QUEUED, SUBMITTING, SUBMITTED, REDEEMED, FAILED, EXPIRED } = WinningTicketStatus;

/**
 * The winning ticket's state machine: every status a ticket may move to from each status. The
 * one definition of it; every named move of WinningTicketRepository is checked against it.
 *
 *   received → queued → submitting → submitted(txHash) → redeemed | failed(code)
 *                 │ ↑________|____________|  (tx not stored, reverted, dropped, batch item failed)
 *                 └→ failed | expired  (a check's final verdict)
 *
 * `queued → queued` keeps the status and records why the ticket waits (`status_reason`).
 */
export const TRANSITIONS: Readonly<Record<WinningTicketStatus, readonly WinningTicketStatus[]>> = {
  [RECEIVED]: [QUEUED],
  [QUEUED]: [QUEUED, SUBMITTING, FAILED, EXPIRED],
  [SUBMITTING]: [SUBMITTED, QUEUED, REDEEMED, FAILED],
  [SUBMITTED]: [QUEUED, REDEEMED, FAILED],
  [REDEEMED]: [],
  [FAILED]: [],
  [EXPIRED]: [],
};

/** Statuses a ticket never leaves. */
export const FINAL_STATUSES: readonly WinningTicketStatus[] = Object.values(WinningTicketStatus).filter(
  (s) => TRANSITIONS[s].length === 0,
);

/** Not final: the ticket's face value is still owed (pending). */
export const OPEN_STATUSES: readonly WinningTicketStatus[] = Object.values(WinningTicketStatus).filter(
  (s) => TRANSITIONS[s].length > 0,
);

/** Claimed by a redemption tx (stored or about to be): only its settlement moves the ticket on. */
export const IN_TX_STATUSES: readonly WinningTicketStatus[] = [SUBMITTING, SUBMITTED];

/** Open and in no tx yet: stored, waiting for its redemption (ops calls them unclaimed). */
export const UNCLAIMED_STATUSES: readonly WinningTicketStatus[] = OPEN_STATUSES.filter(
  (s) => !IN_TX_STATUSES.includes(s),
);

/** Final without a payment: the two outcomes the failure reports list. */
export const UNPAID_FINAL_STATUSES: readonly WinningTicketStatus[] = FINAL_STATUSES.filter(
  (s) => s !== REDEEMED,
);

export function isFinal(status: WinningTicketStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

export function canMove(from: WinningTicketStatus, to: WinningTicketStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * Moves out of a final status, apart from TRANSITIONS (a final status stays final for everything
 * that reads it): only when the chain takes back what the status recorded. A reorganisation deeper
 * than the confirmations removed the tx that redeemed a ticket: the ticket is in that tx again,
 * which is followed anew and settled as any tx.
 */
export const CORRECTIONS: Readonly<Partial<Record<WinningTicketStatus, readonly WinningTicketStatus[]>>> = {
  [REDEEMED]: [SUBMITTED],
};

/** Whether CORRECTIONS lets a ticket go from `from` back to `to`. */
export function canCorrect(from: WinningTicketStatus, to: WinningTicketStatus): boolean {
  return CORRECTIONS[from]?.includes(to) ?? false;
}

/** A named move: from any of `from` to any of `to`, each pair allowed by TRANSITIONS. */
export interface Move<To extends WinningTicketStatus = WinningTicketStatus> {
  readonly name: string;
  readonly from: readonly WinningTicketStatus[];
  readonly to: readonly To[];
}

/** Defines a move; throws at load time if any of its pairs is not in TRANSITIONS. */
export function defineMove<To extends WinningTicketStatus>(
  name: string,
  from: readonly WinningTicketStatus[],
  to: readonly To[],
): Move<To> {
  return checkedMove(name, from, to, canMove, 'TRANSITIONS');
}

/** Defines a correction (CORRECTIONS), checked the same way. */
function defineCorrection<To extends WinningTicketStatus>(
  name: string,
  from: readonly WinningTicketStatus[],
  to: readonly To[],
): Move<To> {
  return checkedMove(name, from, to, canCorrect, 'CORRECTIONS');
}

function checkedMove<To extends WinningTicketStatus>(
  name: string,
  from: readonly WinningTicketStatus[],
  to: readonly To[],
  allowed: (from: WinningTicketStatus, to: WinningTicketStatus) => boolean,
  table: string,
): Move<To> {
  for (const f of from) {
    for (const t of to) {
      if (!allowed(f, t)) throw new Error(`move ${name}: ${f} → ${t} is not in ${table}`);
    }
  }
  return { name, from, to };
}

/** Every status change the system makes, by name. */
export const MOVES = {
  /** The redemption job exists: received → queued (intake, reconciler, redeem-now). */
  queue: defineMove('queue', [RECEIVED], [QUEUED]),
  /** Why a queued ticket waits or was retried, without changing its status. */
  note: defineMove('note', [QUEUED], [QUEUED]),
  /** Taken for a tx about to be built: queued → submitting. */
  claim: defineMove('claim', [QUEUED], [SUBMITTING]),
  /** Its tx is stored and about to be broadcast. */
  markSubmitted: defineMove('markSubmitted', [SUBMITTING], [SUBMITTED]),
  /** Back in line after sending failed before its tx was stored: nothing can be on chain. */
  unclaim: defineMove('unclaim', [SUBMITTING], [QUEUED]),
  /** Back in line: its tx was never stored (crash), or did not redeem it. */
  requeue: defineMove('requeue', IN_TX_STATUSES, [QUEUED]),
  /** Decided by its tx: redeemed, or failed because someone else used it. */
  settle: defineMove('settle', IN_TX_STATUSES, [REDEEMED, FAILED]),
  /** A check's final verdict on a queued ticket. */
  finalize: defineMove('finalize', [QUEUED], [FAILED, EXPIRED]),
  /** Its paying tx was taken off the chain by a reorganisation: in that tx again (CORRECTIONS). */
  unsettle: defineCorrection('unsettle', [REDEEMED], [SUBMITTED]),
} as const;
