import type { ChainFacts, ChainHead } from '#app/chain';
import { RecipientError, RecipientErrorCode } from './recipient.error.js';

/** How stale a head the Recipient may still judge params and tickets on (0: no bound). */
export interface HeadLimits {
  /** Since the RPC last answered for it (RECIPIENT_MAX_HEAD_AGE_SECONDS). */
  maxAgeMs: number;
  /** Since its block number last moved (RECIPIENT_MAX_HEAD_STALL_SECONDS). */
  maxStallMs: number;
}

/**
 * The last head the chain facts saw, or CHAIN_UNAVAILABLE while none was read (RPC down at boot)
 * or, with limits, when the RPC last answered for it too long ago (an outage) or its block number
 * has not moved for too long (a node that answers from a chain it no longer follows): a head that
 * old may hide expired params and tickets past their validity, which must not be credited.
 */
export function currentHead(facts: ChainFacts, limits?: HeadLimits): ChainHead {
  let head: ChainHead;
  try {
    head = facts.head();
  } catch (cause) {
    throw new RecipientError(RecipientErrorCode.CHAIN_UNAVAILABLE, 'the chain head is not known yet', {
      cause,
    });
  }
  if (!limits) return head;
  const now = Date.now();
  const readAt = facts.headReadAt();
  if (limits.maxAgeMs > 0 && readAt !== undefined && now - readAt > limits.maxAgeMs) {
    throw new RecipientError(
      RecipientErrorCode.CHAIN_UNAVAILABLE,
      `the chain head (block ${head.block}) was last read ${Math.floor((now - readAt) / 1000)} s ago, more than ` +
        `RECIPIENT_MAX_HEAD_AGE_SECONDS allows: refusing until the RPC answers again`,
    );
  }
  const advancedAt = facts.headAdvancedAt();
  if (limits.maxStallMs > 0 && advancedAt !== undefined && now - advancedAt > limits.maxStallMs) {
    throw new RecipientError(
      RecipientErrorCode.CHAIN_UNAVAILABLE,
      `the chain head has stayed at block ${head.block} for ${Math.floor((now - advancedAt) / 1000)} s, more than ` +
        `RECIPIENT_MAX_HEAD_STALL_SECONDS allows (is the RPC node in sync?): refusing until it moves`,
    );
  }
  return head;
}
