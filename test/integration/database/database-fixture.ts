import { randomBytes } from 'node:crypto';
import type { PgTxStore, WinningTicketRepository, NewWinningTicket } from '#app/database';

// Rows the database specs store: random bytes wherever a test does not care, so rows of other
// tests on the same database never collide.

/** `bytes` random bytes as 0x-hex. */
export const hex = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`;

/** A winning ticket row of fresh hashes and addresses, as the Recipient would store it. */
export function newTicket(overrides: Partial<NewWinningTicket> = {}): NewWinningTicket {
  return {
    ticketHash: hex(32),
    recipient: hex(20),
    sender: hex(20),
    faceValue: 1_000n,
    winProb: 1n << 255n,
    senderNonce: 1n,
    recipientRandHash: hex(32),
    creationRound: 10n,
    creationRoundBlockHash: hex(32),
    paramsExpirationBlock: 100n,
    sig: hex(65),
    recipientRand: 7n,
    ...overrides,
  };
}

/** A fresh ticket moved through queued and claimed to submitted; returns its hash. */
export async function submittedTicket(repo: WinningTicketRepository): Promise<string> {
  const t = newTicket();
  await repo.insertIfAbsent(t);
  await repo.queue(t.ticketHash);
  await repo.claim(t.ticketHash);
  await repo.markSubmitted(t.ticketHash, hex(32));
  return t.ticketHash;
}

/** A pending batch-redeem `chain_tx` for `refs`, stored in `store` (a fresh signer at nonce 0 unless given). */
export function insertTx(
  store: PgTxStore,
  { signer = hex(20), nonce = 0n, refs = [] }: { signer?: string; nonce?: bigint; refs?: string[] } = {},
) {
  return store.insert({
    chainId: 31337n,
    signer,
    nonce,
    purpose: 'batch-redeem',
    to: hex(20),
    data: '0x',
    value: 0n,
    gasLimit: 1_000_000n,
    refs,
    hash: hex(32),
    rawTx: '0x',
    sentBlock: 1n,
    maxFeePerGas: 1n,
    maxPriorityFeePerGas: 1n,
    gasPrice: null,
  });
}
