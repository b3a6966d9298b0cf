import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Rational,
  TicketError,
  TicketErrorCode,
  validateTicketParams,
  winProbForEV,
  type SenderChainFacts,
  type SenderParamsPolicy,
  type TicketParams,
} from '#app/ticket';
import { DEMO_FACE_VALUE, DEMO_MAX_BATCH, DEMO_MAX_TOTAL_EV, DEMO_TICKET_EV } from './demo-setup.js';

// The demo Sender's check of a full batch against params as the demo Recipient issues them:
// winProb from winProbForEV (rounded up), face value at most the demo cap.

const facts: SenderChainFacts = {
  lastSeenL1Block: 100n,
  lastInitializedRound: 10n,
  senderInfo: {
    deposit: 10n ** 19n,
    withdrawRound: 0n,
    reserve: { fundsRemaining: 10n ** 19n, claimedInCurrentRound: 0n },
  },
};

function demoParams(faceValue: bigint): TicketParams {
  return {
    recipient: new Uint8Array(20).fill(7),
    faceValue,
    winProb: winProbForEV(DEMO_TICKET_EV, faceValue),
    recipientRandHash: new Uint8Array(32).fill(1),
    seed: 1n,
    expirationBlock: 105n,
  };
}

const policy = (maxTotalEV: bigint): SenderParamsPolicy => ({
  maxEV: Rational.of(DEMO_TICKET_EV * 2n),
  maxTotalEV: Rational.of(maxTotalEV),
  depositMultiplier: 1n,
});

describe("the demo's SENDER_MAX_TOTAL_EV", () => {
  it('accepts a full 600-ticket batch at the demo face value (EV × 600 refused it)', () => {
    const full = Number(DEMO_MAX_BATCH);
    expect(() =>
      validateTicketParams(demoParams(DEMO_FACE_VALUE), full, facts, policy(DEMO_MAX_TOTAL_EV)),
    ).not.toThrow();
    let refused: unknown;
    try {
      validateTicketParams(demoParams(DEMO_FACE_VALUE), full, facts, policy(DEMO_TICKET_EV * DEMO_MAX_BATCH));
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(TicketError);
    expect((refused as TicketError).code).toBe(TicketErrorCode.TOTAL_EV_TOO_HIGH);
  });

  it('accepts a full batch at any face value up to the cap (a low max float lowers it)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: DEMO_TICKET_EV + 1n, max: DEMO_FACE_VALUE }), (faceValue) => {
        validateTicketParams(demoParams(faceValue), Number(DEMO_MAX_BATCH), facts, policy(DEMO_MAX_TOTAL_EV));
      }),
      { numRuns: 2_000 },
    );
  });

  it('exceeds the nominal EV of a full batch by one wei only: still a cap', () => {
    expect(DEMO_MAX_TOTAL_EV - DEMO_TICKET_EV * DEMO_MAX_BATCH).toBe(1n);
    expect(() =>
      validateTicketParams(
        demoParams(DEMO_FACE_VALUE),
        Number(DEMO_MAX_BATCH) + 1,
        facts,
        policy(DEMO_MAX_TOTAL_EV),
      ),
    ).toThrow(TicketError);
  });
});
