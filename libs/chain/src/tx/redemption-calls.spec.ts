import { describe, expect, it } from 'vitest';
import { ticketInput, type RedeemableTicket } from './redemption-calls.js';

const ZERO_HASH = `0x${'00'.repeat(32)}`;
const BLOCK_HASH = `0x${'ab'.repeat(32)}`;

function stored(creationRound: bigint, creationRoundBlockHash: string): RedeemableTicket {
  return {
    ticketHash: `0x${'11'.repeat(32)}`,
    recipient: `0x${'22'.repeat(20)}`,
    sender: `0x${'33'.repeat(20)}`,
    faceValue: 10n,
    winProb: 5n,
    senderNonce: 7n,
    recipientRandHash: `0x${'44'.repeat(32)}`,
    creationRound,
    creationRoundBlockHash,
    sig: `0x${'55'.repeat(65)}`,
    recipientRand: 9n,
  };
}

describe('ticketInput', () => {
  it('passes the auxData the ticket was signed with: u256(creationRound) ‖ block hash', () => {
    expect(ticketInput(stored(0x1234n, BLOCK_HASH)).auxData).toBe(
      `0x${'1234'.padStart(64, '0')}${'ab'.repeat(32)}`,
    );
    expect(ticketInput(stored(3n, ZERO_HASH)).auxData).toBe(`0x${'3'.padStart(64, '0')}${'00'.repeat(32)}`);
  });

  it('passes empty auxData only when round and block hash are both zero (the contract refuses it)', () => {
    expect(ticketInput(stored(0n, ZERO_HASH)).auxData).toBe('0x');
    expect(ticketInput(stored(0n, BLOCK_HASH)).auxData).toBe(`0x${'00'.repeat(32)}${'ab'.repeat(32)}`);
  });
});
