import type { WinningTicketStatus } from '../winning-ticket/winning-ticket.entity.js';

/**
 * `'received','queued'`: a status group of winning-ticket.transitions as an SQL IN list. The groups
 * are fixed enum values, never input, so they are written into the statement: each query keeps one
 * plan, and a partial index over the same literals still matches.
 */
export function statusList(statuses: readonly WinningTicketStatus[]): string {
  return statuses.map((s) => `'${s}'`).join(',');
}
