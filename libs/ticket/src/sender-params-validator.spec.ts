import { describe, expect, it } from 'vitest';
import {
  MAX_WIN_PROB,
  Rational,
  TicketErrorCode,
  validateTicketParams,
  winProbForEV,
  type SenderChainFacts,
  type SenderParamsPolicy,
  type TicketParams,
} from '#app/ticket';
import { RECIPIENT } from '../test/fixtures.js';

const params: TicketParams = {
  recipient: RECIPIENT,
  faceValue: 1_000_000n,
  winProb: winProbForEV(1000n, 1_000_000n),
  recipientRandHash: new Uint8Array(32).fill(1),
  seed: 1n,
  expirationBlock: 140n,
};
const facts: SenderChainFacts = {
  lastSeenL1Block: 100n,
  lastInitializedRound: 10n,
  senderInfo: {
    deposit: 5_000_000n,
    withdrawRound: 0n,
    reserve: { fundsRemaining: 1n, claimedInCurrentRound: 0n },
  },
};
const policy: SenderParamsPolicy = {
  maxEV: Rational.of(2000n),
  maxTotalEV: Rational.of(10_000n),
  depositMultiplier: 1n,
};

function failure(
  p: TicketParams | undefined,
  overrides: {
    facts?: Partial<SenderChainFacts>;
    policy?: Partial<SenderParamsPolicy>;
    numTickets?: number;
  } = {},
) {
  try {
    validateTicketParams(
      p,
      overrides.numTickets ?? 1,
      { ...facts, ...overrides.facts },
      { ...policy, ...overrides.policy },
    );
  } catch (error) {
    return error as { code: string; message: string; fatal: boolean };
  }
  return undefined;
}

const info = (over: Partial<SenderChainFacts['senderInfo']>) => ({
  senderInfo: { ...facts.senderInfo, ...over },
});

describe('validateTicketParams (§7.3)', () => {
  it('accepts sound params', () => {
    expect(failure(params, { numTickets: 9 })).toBeUndefined();
  });

  it.each([
    ['missing params', undefined, {}, TicketErrorCode.PARAMS_MISSING, 'ticketParams is nil'],
    [
      'expiration block 0 (even for free params: fix a6c4b1ef7)',
      { ...params, expirationBlock: 0n, faceValue: 0n, winProb: 0n },
      {},
      TicketErrorCode.PARAMS_EXPIRATION_BLOCK_ZERO,
      'ticketParams expiration block is 0',
    ],
    [
      'expired params',
      { ...params, expirationBlock: 101n },
      {},
      TicketErrorCode.PARAMS_EXPIRED,
      'TicketParams expired',
    ],
    [
      'faceValue not above EV',
      { ...params, winProb: MAX_WIN_PROB },
      {},
      TicketErrorCode.FACE_VALUE_TOO_LOW,
      'ticket faceValue too low faceValue=1000000',
    ],
    [
      'EV above the max',
      params,
      { policy: { maxEV: Rational.of(999n) } },
      TicketErrorCode.EV_TOO_HIGH,
      /^ticket EV 1000\.\d{5} > max ticket EV 999\.00000$/,
    ],
    [
      'sender unlocking within a round',
      params,
      { facts: info({ withdrawRound: 11n }) },
      TicketErrorCode.SENDER_UNLOCKING,
      'unable to validate sender: deposit and reserve is set to unlock soon',
    ],
    [
      'no reserve',
      params,
      { facts: info({ reserve: { fundsRemaining: 0n, claimedInCurrentRound: 0n } }) },
      TicketErrorCode.NO_SENDER_RESERVE,
      'no sender reserve',
    ],
    [
      'no deposit',
      params,
      { facts: info({ deposit: 0n }) },
      TicketErrorCode.NO_SENDER_DEPOSIT,
      'no sender deposit',
    ],
    [
      'total EV above the max',
      params,
      { numTickets: 11 },
      TicketErrorCode.TOTAL_EV_TOO_HIGH,
      /^total ticket EV 11000\.\d{5} for 11 tickets > max total ticket EV 10000\.00000$/,
    ],
    [
      'faceValue above deposit / multiplier',
      params,
      { policy: { depositMultiplier: 6n } },
      TicketErrorCode.FACE_VALUE_TOO_HIGH,
      'ticket faceValue 1000000 > max faceValue 833333',
    ],
  ] as const)('refuses %s', (_name, p, overrides, code, message) => {
    const error = failure(p, overrides);
    expect(error?.code).toBe(code);
    expect(error?.message).toMatch(message);
    expect(error?.fatal).toBe(code !== TicketErrorCode.PARAMS_EXPIRED);
  });

  it('needs two blocks of headroom and accepts a withdraw round two rounds ahead', () => {
    expect(failure({ ...params, expirationBlock: 102n })).toBeUndefined();
    expect(failure(params, { facts: info({ withdrawRound: 12n }) })).toBeUndefined();
  });

  it('skips every economic check for zero-EV params', () => {
    const free = { ...params, faceValue: 0n, winProb: 0n };
    expect(
      failure(free, { facts: info({ deposit: 0n, withdrawRound: 1n }), policy: { maxEV: Rational.ZERO } }),
    ).toBeUndefined();
  });

  it('checks in go-livepeer order: expiry before EV before sender state', () => {
    expect(failure({ ...params, expirationBlock: 100n, winProb: MAX_WIN_PROB })?.code).toBe(
      TicketErrorCode.PARAMS_EXPIRED,
    );
    expect(failure(params, { policy: { maxEV: Rational.ZERO }, facts: info({ deposit: 0n }) })?.code).toBe(
      TicketErrorCode.EV_TOO_HIGH,
    );
  });

  it('treats absent EV limits as unlimited and refuses a bad policy or ticket count', () => {
    expect(
      failure(params, { numTickets: 1000, policy: { maxEV: undefined, maxTotalEV: undefined } }),
    ).toBeUndefined();
    expect(failure(params, { policy: { depositMultiplier: 0n } })?.code).toBe(TicketErrorCode.INVALID_INPUT);
    expect(failure(params, { numTickets: -1 })?.code).toBe(TicketErrorCode.INVALID_INPUT);
  });
});
