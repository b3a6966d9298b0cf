import { describe, expect, it } from 'vitest';
import { WinningTicketStatus } from './winning-ticket.entity.js';
import {
  FINAL_STATUSES,
  IN_TX_STATUSES,
  MOVES,
  OPEN_STATUSES,
  TRANSITIONS,
  UNCLAIMED_STATUSES,
  UNPAID_FINAL_STATUSES,
  canCorrect,
  canMove,
  CORRECTIONS,
  defineMove,
  isFinal,
} from './winning-ticket.transitions.js';

const S = WinningTicketStatus;
const ALL = Object.values(S);

describe('winning ticket TRANSITIONS', () => {
  it('names every status, and only statuses', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...ALL].sort());
    for (const targets of Object.values(TRANSITIONS)) for (const t of targets) expect(ALL).toContain(t);
  });

  it('has redeemed, failed and expired as the only final statuses', () => {
    expect([...FINAL_STATUSES].sort()).toEqual([S.EXPIRED, S.FAILED, S.REDEEMED]);
    expect([...OPEN_STATUSES].sort()).toEqual([S.QUEUED, S.RECEIVED, S.SUBMITTED, S.SUBMITTING]);
    for (const s of ALL) expect(isFinal(s)).toBe(FINAL_STATUSES.includes(s));
  });

  it('splits open into unclaimed and in a tx, and final into redeemed and unpaid', () => {
    expect(UNCLAIMED_STATUSES).toEqual([S.RECEIVED, S.QUEUED]);
    expect([...UNCLAIMED_STATUSES, ...IN_TX_STATUSES].sort()).toEqual([...OPEN_STATUSES].sort());
    expect(UNPAID_FINAL_STATUSES).toEqual([S.FAILED, S.EXPIRED]);
    expect([S.REDEEMED, ...UNPAID_FINAL_STATUSES].sort()).toEqual([...FINAL_STATUSES].sort());
    // No tx has an unclaimed ticket in it: only a claim moves one into a tx.
    for (const from of UNCLAIMED_STATUSES) {
      for (const to of IN_TX_STATUSES)
        expect(canMove(from, to)).toBe(from === S.QUEUED && to === S.SUBMITTING);
    }
  });

  it('never moves back to received, and leaves no final status', () => {
    for (const from of ALL) expect(canMove(from, S.RECEIVED)).toBe(false);
    for (const from of FINAL_STATUSES) for (const to of ALL) expect(canMove(from, to)).toBe(false);
  });

  it('redeems only through a tx: redeemed is reached from submitting/submitted only', () => {
    expect(ALL.filter((from) => canMove(from, S.REDEEMED)).sort()).toEqual([...IN_TX_STATUSES].sort());
  });

  it('expires only a queued ticket: one in a tx is decided by that tx', () => {
    expect(ALL.filter((from) => canMove(from, S.EXPIRED))).toEqual([S.QUEUED]);
  });

  it('reaches every open status from received', () => {
    const seen = new Set<WinningTicketStatus>([S.RECEIVED]);
    for (let grew = true; grew;) {
      grew = false;
      for (const from of [...seen]) {
        for (const to of TRANSITIONS[from]) {
          if (!seen.has(to)) {
            seen.add(to);
            grew = true;
          }
        }
      }
    }
    expect([...seen].sort()).toEqual([...ALL].sort());
  });

  it('allows every pair of every named move, by TRANSITIONS or (unsettle only) by CORRECTIONS', () => {
    for (const move of Object.values(MOVES)) {
      const allowed = move === MOVES.unsettle ? canCorrect : canMove;
      for (const from of move.from) for (const to of move.to) expect(allowed(from, to)).toBe(true);
    }
  });

  it('corrects only a redeemed ticket, back into its tx; the status stays final for every reader', () => {
    expect(CORRECTIONS).toEqual({ [S.REDEEMED]: [S.SUBMITTED] });
    expect(MOVES.unsettle).toMatchObject({ from: [S.REDEEMED], to: [S.SUBMITTED] });
    expect(isFinal(S.REDEEMED)).toBe(true);
    expect(canMove(S.REDEEMED, S.SUBMITTED)).toBe(false);
  });

  it('refuses to define a move outside the table', () => {
    expect(() => defineMove('bad', [S.RECEIVED], [S.FAILED])).toThrow(/received → failed/);
    expect(() => defineMove('bad', [S.REDEEMED], [S.QUEUED])).toThrow(/not in TRANSITIONS/);
  });

  it('covers every transition of the table with a named move', () => {
    const covered = new Set<string>();
    for (const move of Object.values(MOVES)) {
      for (const from of move.from) for (const to of move.to) covered.add(`${from}>${to}`);
    }
    for (const from of ALL) for (const to of TRANSITIONS[from]) expect(covered).toContain(`${from}>${to}`);
  });
});
