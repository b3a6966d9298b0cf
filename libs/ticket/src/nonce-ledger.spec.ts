import { describe, expect, it } from 'vitest';
import { InMemoryNonceLedger, MAX_SENDER_NONCES, NonceOutcome } from '#app/ticket';

describe('InMemoryNonceLedger', () => {
  it('records each nonce once per key, in any order', () => {
    const ledger = new InMemoryNonceLedger();
    expect(ledger.record('a', 10n, [3, 1, 3])).toEqual([
      NonceOutcome.RECORDED,
      NonceOutcome.RECORDED,
      NonceOutcome.ALREADY_SEEN,
    ]);
    expect(ledger.record('a', 10n, [2, 1])).toEqual([NonceOutcome.RECORDED, NonceOutcome.ALREADY_SEEN]);
    expect(ledger.record('b', 10n, [1])).toEqual([NonceOutcome.RECORDED]);
  });

  it(`caps a key at ${MAX_SENDER_NONCES} nonces, checking replays first`, () => {
    const ledger = new InMemoryNonceLedger();
    const all = Array.from({ length: MAX_SENDER_NONCES }, (_, i) => i);
    expect(ledger.record('a', 10n, all).every((o) => o === NonceOutcome.RECORDED)).toBe(true);
    expect(ledger.record('a', 10n, [MAX_SENDER_NONCES, 0])).toEqual([
      NonceOutcome.TOO_MANY,
      NonceOutcome.ALREADY_SEEN,
    ]);
  });

  it('drops entries whose params expired at or before the given block', () => {
    const ledger = new InMemoryNonceLedger();
    ledger.record('early', 10n, [1]);
    ledger.record('late', 11n, [1]);
    expect(ledger.expire(9n)).toBe(0);
    expect(ledger.expire(10n)).toBe(1);
    expect(ledger.size).toBe(1);
    expect(ledger.record('early', 20n, [1])).toEqual([NonceOutcome.RECORDED]);
  });
});
