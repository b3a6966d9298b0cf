import { describe, expect, it } from 'vitest';
import type { ChainFacts, ChainHead } from '#app/chain';
import { currentHead } from './chain-head.js';
import { RecipientError, RecipientErrorCode } from './recipient.error.js';

const HEAD = { block: 1234n } as ChainHead;
const SECOND = 1_000;

/** The three facts currentHead reads; `readAgo` and `movedAgo` in ms before now. */
function facts(readAgo: number | undefined, movedAgo: number | undefined): ChainFacts {
  const now = Date.now();
  return {
    head: () => HEAD,
    headReadAt: () => (readAgo === undefined ? undefined : now - readAgo),
    headAdvancedAt: () => (movedAgo === undefined ? undefined : now - movedAgo),
  } as unknown as ChainFacts;
}

function refusal(f: ChainFacts, limits = { maxAgeMs: 120 * SECOND, maxStallMs: 600 * SECOND }): string {
  try {
    currentHead(f, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(RecipientError);
    expect((err as RecipientError).code).toBe(RecipientErrorCode.CHAIN_UNAVAILABLE);
    return (err as Error).message;
  }
  return '';
}

describe('currentHead', () => {
  it('answers a head read lately whose block moved lately', () => {
    expect(
      currentHead(facts(1 * SECOND, 30 * SECOND), { maxAgeMs: 120 * SECOND, maxStallMs: 600 * SECOND }),
    ).toBe(HEAD);
    // A quiet chain (no block for a while) is fine below the stall bound.
    expect(refusal(facts(SECOND, 599 * SECOND))).toBe('');
  });

  it('refuses a head the RPC last answered for too long ago (an outage)', () => {
    expect(refusal(facts(121 * SECOND, 121 * SECOND))).toMatch(
      /last read 121 s ago.*RECIPIENT_MAX_HEAD_AGE_SECONDS/,
    );
  });

  it('refuses a head the RPC keeps answering with while its block does not move (a node out of sync)', () => {
    expect(refusal(facts(SECOND, 601 * SECOND))).toMatch(
      /stayed at block 1234 for 601 s.*RECIPIENT_MAX_HEAD_STALL_SECONDS/,
    );
  });

  it('has no bound where a limit is 0, none without limits, and none for a source that does not track it', () => {
    expect(refusal(facts(SECOND, 10_000 * SECOND), { maxAgeMs: 120 * SECOND, maxStallMs: 0 })).toBe('');
    expect(refusal(facts(10_000 * SECOND, SECOND), { maxAgeMs: 0, maxStallMs: 600 * SECOND })).toBe('');
    expect(currentHead(facts(10_000 * SECOND, 10_000 * SECOND))).toBe(HEAD);
    expect(refusal(facts(undefined, undefined))).toBe('');
  });
});
