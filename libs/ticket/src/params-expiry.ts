import { PARAMS_EXPIRY_BUFFER_BLOCKS } from './constants.js';

/**
 * The one statement of when ticket params expire, in the L1 block numbers they are issued against
 * (on Arbitrum the L1 block, elsewhere the chain's own). Every side decides by these: the Recipient
 * refuses tickets and forgets their nonces (PROTOCOL §5.4 step 6), the Redeemer reveals
 * recipientRand only after it (§8.4), the Sender stops signing one block earlier (§7.3).
 */

/**
 * Seconds per L1 block (Ethereum's slot time; Arbitrum's L1 block numbers follow it): how long
 * params that live a number of blocks last in time, for what must outlive them (TTLs).
 */
export const L1_BLOCK_SECONDS = 12;

/**
 * How long state tied to params with `blocks` L1 blocks to go must be kept, in ms: twice the time
 * the blocks take at `blockSeconds` each, plus a minute, as missed slots and a lagging head make
 * params live longer than that time. The Sender keeps a session and the Recipient its record of
 * issued params and seen nonces this long: dropped while the params are live, the session would
 * restart its nonces at 1 (the Recipient refuses seen ones), the record refuse them as unknown.
 */
export function paramsLifeBoundMs(blocks: bigint, blockSeconds: number): bigint {
  return 2n * blocks * BigInt(blockSeconds) * 1000n + 60_000n;
}

/** The expiration block of params issued at `l1Block` that live `expiryBlocks` blocks. */
export function paramsExpirationBlock(l1Block: bigint, expiryBlocks: bigint): bigint {
  return l1Block + expiryBlocks;
}

/**
 * The first L1 block at which the Redeemer reveals recipientRand for params expiring at
 * `expirationBlock`: when they expire, `marginBlocks` later.
 */
export function revealBlock(expirationBlock: bigint, marginBlocks: number): bigint {
  return expirationBlock + BigInt(marginBlocks);
}

/**
 * Blocks past expiry that cover a Redeemer's head being a poll behind the Recipient's: the whole
 * margin where nothing more is known of the head that accepted the tickets (revealMarginBlocks).
 */
export const REVEAL_POLL_MARGIN_BLOCKS = 1;

/**
 * The reveal margin for tickets a Recipient accepted while it judges params on a head whose block
 * may have stopped moving up to `maxHeadStallSeconds` ago (its RECIPIENT_MAX_HEAD_STALL_SECONDS; 0:
 * no bound). Until then such a Recipient may still take the params as live while the chain is up
 * to that many seconds of L1 blocks past their expiry, and a sender that has seen recipientRand in
 * a redemption could pick losing tickets for it to credit. So recipientRand waits those blocks
 * too, plus REVEAL_POLL_MARGIN_BLOCKS. Without a bound nothing can be waited out: the poll margin.
 */
export function revealMarginBlocks(maxHeadStallSeconds: number, l1BlockSeconds: number): number {
  if (!(maxHeadStallSeconds > 0) || !(l1BlockSeconds > 0)) return REVEAL_POLL_MARGIN_BLOCKS;
  return Math.ceil(maxHeadStallSeconds / l1BlockSeconds) + REVEAL_POLL_MARGIN_BLOCKS;
}

/**
 * A stored winning ticket's reveal block: the one its Recipient stored with it, else its params'
 * expiry plus `marginBlocks` (tickets stored before it was recorded, or given by QueueTicket).
 */
export function storedRevealBlock(
  ticket: { paramsExpirationBlock: bigint; revealBlock?: bigint | null },
  marginBlocks: number,
): bigint {
  return ticket.revealBlock ?? revealBlock(ticket.paramsExpirationBlock, marginBlocks);
}

/** True once `l1Block` has reached `expirationBlock`: tickets are refused, recipientRand may be revealed. */
export function paramsExpired(expirationBlock: bigint, l1Block: bigint): boolean {
  return expirationBlock <= l1Block;
}

/** Blocks left until `paramsExpired` holds (0 once it does). */
export function blocksUntilParamsExpire(expirationBlock: bigint, l1Block: bigint): bigint {
  return expirationBlock > l1Block ? expirationBlock - l1Block : 0n;
}

/**
 * The Sender's view: params count as expired PARAMS_EXPIRY_BUFFER_BLOCKS early, so a ticket it
 * signs still arrives in time.
 */
export function paramsExpiredForSender(expirationBlock: bigint, l1Block: bigint): boolean {
  return expirationBlock - l1Block <= PARAMS_EXPIRY_BUFFER_BLOCKS;
}
