import { describe, expect, it } from 'vitest';
import type { ChainHead } from '#app/chain';
import { WinningTicketStatus, type WinningTicketEntity } from '#app/database';
import { ERROR_BACKOFF_MAX_MS } from '#app/queue';
import { RedemptionService } from './redemption.service.js';

const POLL_MS = 5_000;
/** L1 blocks per round, and the pace the stub chain gives: one block a second. */
const ROUND_LENGTH = 1_000n;
const BLOCK_MS = 1_000;
const MARGIN_BLOCKS = 3;
const VALIDITY = 2n;
const CURRENT_ROUND = 100n;
const ROUND_START = 50_000n;
const hash = `0x${'ab'.repeat(32)}`;

interface Setup {
  /** The ticket's row (fields over a queued one); null: none; an Error: Postgres down. */
  row?: Partial<WinningTicketEntity> | null | Error;
  /** L1 blocks of the current round left after the head. */
  blocksLeft?: bigint;
  retry?: { base: number; max: number };
  /** The block pace is unknown (no head seen twice yet). */
  paceUnknown?: boolean;
}

/** A RedemptionService over stubs: only what errorDelay reads (the row, the head, the pace). */
function service(setup: Setup = {}): RedemptionService {
  const { row = {}, blocksLeft = 600n, retry = { base: 2_000, max: 300_000 } } = setup;
  const head = {
    l1Block: ROUND_START + ROUND_LENGTH - 1n - blocksLeft,
    rounds: { currentRound: CURRENT_ROUND, roundLength: ROUND_LENGTH, currentRoundStartBlock: ROUND_START },
  } as ChainHead;
  const config = {
    values: {
      REDEEMER_POLL_MS: POLL_MS,
      REDEEMER_RETRY_BASE_MS: retry.base,
      REDEEMER_RETRY_MAX_MS: retry.max,
    },
    servedRecipients: () => undefined,
  };
  const tickets = {
    findByHash: (): Promise<WinningTicketEntity | null> => {
      if (row instanceof Error) return Promise.reject(row);
      const entity = { ticketHash: hash, status: WinningTicketStatus.QUEUED, creationRound: CURRENT_ROUND };
      return Promise.resolve(row && ({ ...entity, ...row } as WinningTicketEntity));
    },
  };
  const chain = {
    head: () => Promise.resolve(head),
    validityPeriod: () => Promise.resolve(VALIDITY),
    msUntilL1Block: (target: bigint) =>
      setup.paceUnknown ? undefined : Number(target - head.l1Block) * BLOCK_MS,
  };
  const margin = { blocks: () => MARGIN_BLOCKS };
  const none = {} as never;
  return new RedemptionService(
    config as never,
    tickets as never,
    none,
    chain as never,
    none,
    none,
    none,
    { address: `0x${'cd'.repeat(20)}` } as never,
    none,
    none,
    none,
    margin as never,
  );
}

/** Created validity − 1 rounds ago: the current round is its last valid one. */
const lastRound = { creationRound: CURRENT_ROUND - VALIDITY + 1n };

describe('RedemptionService.errorDelay (the wait after a run that threw)', () => {
  it("follows the Redeemer's REDEEMER_RETRY_* back-off, not a copy of its defaults", async () => {
    const s = service({ retry: { base: 1_000, max: 8_000 } });
    expect(await Promise.all([1, 2, 3, 4, 5, 20].map((n) => s.errorDelay(hash, n)))).toEqual([
      1_000, 2_000, 4_000, 8_000, 8_000, 8_000,
    ]);
    // With rounds to spare, the whole back-off, up to REDEEMER_RETRY_MAX_MS.
    expect(await service().errorDelay(hash, 14)).toBe(300_000);
  });

  it("ends before a ticket's last valid round does, less the round-end margin, not after the 5-min max", async () => {
    // 60 blocks (60 s) left in the ticket's last round: its job runs again 3 blocks before the end.
    const delay = await service({ row: lastRound, blocksLeft: 60n }).errorDelay(hash, 14);
    expect(delay).toBe((60 - MARGIN_BLOCKS) * BLOCK_MS);
    expect(delay).toBeLessThan(ERROR_BACKOFF_MAX_MS);
    // Inside the margin already: a poll interval, as every other wait of the ticket.
    expect(await service({ row: lastRound, blocksLeft: 2n }).errorDelay(hash, 14)).toBe(POLL_MS);
    // The pace unknown in the last round: a poll interval too.
    expect(await service({ row: lastRound, paceUnknown: true }).errorDelay(hash, 14)).toBe(POLL_MS);
    // A back-off shorter than the time left stands.
    expect(await service({ row: lastRound, blocksLeft: 60n }).errorDelay(hash, 2)).toBe(4_000);
  });

  it('waits at most a poll interval when the row cannot be read (Postgres down)', async () => {
    const s = service({ row: new Error('connect ECONNREFUSED 127.0.0.1:5432') });
    expect(await s.errorDelay(hash, 1)).toBe(2_000);
    expect(await s.errorDelay(hash, 14)).toBe(POLL_MS);
  });

  it('leaves the back-off whole for a ticket that is gone or final (its next run ends the job)', async () => {
    expect(await service({ row: null, blocksLeft: 60n }).errorDelay(hash, 14)).toBe(300_000);
    const redeemed = { ...lastRound, status: WinningTicketStatus.REDEEMED };
    expect(await service({ row: redeemed, blocksLeft: 60n }).errorDelay(hash, 14)).toBe(300_000);
  });
});
