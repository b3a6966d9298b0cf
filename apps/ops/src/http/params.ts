import { CHECKSUM_HINT } from '#app/common';
import { addressTextProblem, ticketHashText } from '#app/ticket';
import { IN_TX_STATUSES, UNCLAIMED_STATUSES, WinningTicketStatus } from '#app/database';
import { OpsError, OpsErrorCode } from '../ops.error.js';

// Parsers of query and path parameters: every external input is checked here, with a clear
// INVALID_REQUEST naming the parameter, before any store is read.

const invalid = (message: string) => new OpsError(OpsErrorCode.INVALID_REQUEST, message);

export const MAX_PAGE_SIZE = 500;

export interface Page {
  limit: number;
  offset: number;
}

function intParam(raw: string | undefined, name: string, min: number, max: number, dflt: number): number {
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw invalid(`${name} must be an integer in [${min}, ${max}]`);
  }
  return Number(raw);
}

export function pageParams(limit: string | undefined, offset: string | undefined, dfltLimit = 50): Page {
  return {
    limit: intParam(limit, 'limit', 1, MAX_PAGE_SIZE, dfltLimit),
    offset: intParam(offset, 'offset', 0, 1_000_000_000, 0),
  };
}

export function addressParam(raw: string | undefined, name: string): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const problem = addressTextProblem(raw);
  if (problem === 'malformed') throw invalid(`${name} must be a 0x-prefixed 20-byte hex address`);
  if (problem === 'checksum') throw invalid(`${name}: ${CHECKSUM_HINT}`);
  return raw.toLowerCase();
}

export function ticketHashParam(raw: string): string {
  const hash = ticketHashText(raw);
  if (hash === undefined) throw invalid('the ticket hash must be 0x and 64 hex digits');
  return hash;
}

export function windowParams(
  rawWindow: string | undefined,
  rawBucket: string | undefined,
): { windowSeconds: number; bucketSeconds: number } {
  const windowSeconds = intParam(rawWindow, 'window', 60, 30 * 86_400, 3_600);
  const bucketSeconds = intParam(rawBucket, 'bucket', 1, 86_400, Math.max(10, Math.ceil(windowSeconds / 60)));
  if (windowSeconds / bucketSeconds > 1_000) throw invalid('window / bucket must be at most 1000 buckets');
  return { windowSeconds, bucketSeconds };
}

/**
 * Status groups, as snet-daemon lists claims: unclaimed (stored, waiting for its redemption),
 * in progress (a transaction is being built or is on its way), and the three final outcomes.
 */
export const STATUS_GROUPS = {
  unclaimed: UNCLAIMED_STATUSES,
  'in-progress': IN_TX_STATUSES,
  redeemed: [WinningTicketStatus.REDEEMED],
  failed: [WinningTicketStatus.FAILED],
  expired: [WinningTicketStatus.EXPIRED],
} as const satisfies Record<string, readonly WinningTicketStatus[]>;

export type StatusGroup = keyof typeof STATUS_GROUPS;

export function groupOf(status: WinningTicketStatus): StatusGroup {
  for (const [group, statuses] of Object.entries(STATUS_GROUPS)) {
    if ((statuses as readonly WinningTicketStatus[]).includes(status)) return group as StatusGroup;
  }
  return 'unclaimed';
}

/** `status=unclaimed,failed` or raw statuses (`queued`), comma-separated; empty = all. */
export function statusParam(raw: string | undefined): WinningTicketStatus[] {
  if (raw === undefined || raw.trim() === '') return [];
  const raws = Object.values(WinningTicketStatus) as string[];
  const out = new Set<WinningTicketStatus>();
  for (const part of raw.split(',').map((s) => s.trim().toLowerCase())) {
    if (part in STATUS_GROUPS) STATUS_GROUPS[part as StatusGroup].forEach((s) => out.add(s));
    else if (raws.includes(part)) out.add(part as WinningTicketStatus);
    else {
      throw invalid(
        `unknown status "${part}" (one of ${[...Object.keys(STATUS_GROUPS), ...raws.filter((s) => !(s in STATUS_GROUPS))].join(', ')})`,
      );
    }
  }
  return [...out];
}
