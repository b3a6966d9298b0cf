import { describe, expect, it } from 'vitest';
import { WinningTicketStatus } from '#app/database';
import { RedemptionCode, verdictForRevert } from './redemption-code.js';

describe('verdictForRevert', () => {
  it('ends a ticket only on reasons that can never change', () => {
    const final = (reason: string, past = true) => verdictForRevert(reason, past);
    expect(final('ticket is used')).toEqual({
      kind: 'final',
      status: WinningTicketStatus.FAILED,
      code: RedemptionCode.TICKET_USED,
    });
    expect(final('ticket is expired')).toMatchObject({
      status: WinningTicketStatus.EXPIRED,
      code: RedemptionCode.TICKET_EXPIRED,
    });
    expect(final('recipientRand does not match recipientRandHash')).toMatchObject({
      code: RedemptionCode.INVALID_RECIPIENT_RAND,
    });
    expect(final("ECDSA: invalid signature 's' value")).toMatchObject({
      code: RedemptionCode.INVALID_SIGNATURE,
    });
    expect(final('invalid signature over ticket hash')).toMatchObject({
      code: RedemptionCode.INVALID_SIGNATURE,
    });
    expect(final('ticket did not win')).toMatchObject({ code: RedemptionCode.TICKET_DID_NOT_WIN });
    expect(final('ticket creationRoundBlockHash invalid for creationRound')).toMatchObject({
      code: RedemptionCode.INVALID_AUX_DATA,
    });
  });

  it('waits on reasons that time or the sender can fix', () => {
    expect(verdictForRevert('current round is not initialized', true)).toEqual({
      kind: 'wait',
      code: RedemptionCode.ROUND_NOT_INITIALIZED,
    });
    expect(verdictForRevert('sender is unlocked', true)).toMatchObject({
      kind: 'wait',
      code: RedemptionCode.SENDER_UNLOCKED,
    });
    expect(verdictForRevert('sender deposit and reserve are zero', true)).toMatchObject({
      kind: 'wait',
      code: RedemptionCode.INSUFFICIENT_FUNDS,
    });
  });

  it('fails a missing block hash only for a round already past (go-livepeer #2358)', () => {
    const reason = 'ticket creationRound does not have a block hash';
    expect(verdictForRevert(reason, true)).toMatchObject({
      kind: 'final',
      code: RedemptionCode.NO_BLOCK_HASH,
    });
    expect(verdictForRevert(reason, false)).toMatchObject({
      kind: 'wait',
      code: RedemptionCode.CREATION_ROUND_NOT_INITIALIZED,
    });
  });

  it('retries anything else, unknown reasons and panics included', () => {
    expect(verdictForRevert('transcoder must be registered', true)).toMatchObject({
      kind: 'retry',
      code: RedemptionCode.RECIPIENT_NOT_REGISTERED,
    });
    expect(verdictForRevert(undefined, true)).toMatchObject({
      kind: 'retry',
      code: RedemptionCode.SIMULATION_REVERTED,
    });
    expect(verdictForRevert('something new', true)).toMatchObject({
      kind: 'retry',
      error: 'execution reverted: something new',
    });
  });
});
