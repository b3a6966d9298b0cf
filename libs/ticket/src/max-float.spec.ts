import { describe, expect, it } from 'vitest';
import { maxFloat, reserveAllocation, type MaxFloatInputs } from './max-float.js';

const base: MaxFloatInputs = {
  info: { deposit: 0n, withdrawRound: 0n, reserve: { fundsRemaining: 1_000n, claimedInCurrentRound: 0n } },
  claimed: 0n,
  poolSize: 4n,
  recipientActive: true,
  pending: 0n,
  pendingTotal: 0n,
};
const withReserve = (fundsRemaining: bigint, claimedInCurrentRound = 0n): MaxFloatInputs['info'] => ({
  ...base.info,
  reserve: { fundsRemaining, claimedInCurrentRound },
});

describe('reserveAllocation', () => {
  it('splits the reserve as it stood at the round start across the pool, less own claims', () => {
    expect(reserveAllocation(base)).toBe(250n);
    // Another recipient claimed 200 this round: its claim is added back, ours is unchanged.
    expect(reserveAllocation({ ...base, info: withReserve(800n, 200n) })).toBe(250n);
    // We claimed 100 of our 250.
    expect(reserveAllocation({ ...base, info: withReserve(900n, 100n), claimed: 100n })).toBe(150n);
  });

  it('uses integer division, as the contract', () => {
    expect(reserveAllocation({ ...base, info: withReserve(1_001n), poolSize: 3n })).toBe(333n);
  });

  it('is 0 for an empty pool or an inactive recipient', () => {
    expect(reserveAllocation({ ...base, poolSize: 0n })).toBe(0n);
    expect(reserveAllocation({ ...base, recipientActive: false })).toBe(0n);
  });

  it('never goes below 0 nor above the funds left', () => {
    // The pool grew mid-round: 1000/8 = 125 < 200 already claimed.
    expect(reserveAllocation({ ...base, info: withReserve(800n, 200n), claimed: 200n, poolSize: 8n })).toBe(
      0n,
    );
    // After a withdrawal the funds are 0 while this round's claims remain.
    expect(reserveAllocation({ ...base, info: withReserve(0n, 400n), poolSize: 1n })).toBe(0n);
    expect(reserveAllocation({ ...base, info: withReserve(50n, 950n), poolSize: 1n, claimed: 0n })).toBe(50n);
  });
});

describe('maxFloat', () => {
  it('is the allocation less what is pending; the deposit is not added', () => {
    expect(maxFloat({ ...base, info: { ...base.info, deposit: 10n ** 18n } })).toBe(250n);
    expect(maxFloat({ ...base, pending: 100n, pendingTotal: 100n })).toBe(150n);
  });

  it('goes negative when more is pending than allocated', () => {
    expect(maxFloat({ ...base, pending: 400n, pendingTotal: 400n })).toBe(-150n);
  });

  it('waives the deduction while the deposit covers 3x everything pending', () => {
    const info = (deposit: bigint) => ({ ...base.info, deposit });
    expect(maxFloat({ ...base, info: info(300n), pending: 100n, pendingTotal: 100n })).toBe(250n);
    expect(maxFloat({ ...base, info: info(299n), pending: 100n, pendingTotal: 100n })).toBe(150n);
    // Tickets to other recipients draw on the same deposit first.
    expect(maxFloat({ ...base, info: info(300n), pending: 100n, pendingTotal: 101n })).toBe(150n);
  });
});
