import type { ChainFacts, ChainHead } from '#app/chain';
import { RecipientError, RecipientErrorCode } from './recipient.error.js';

/**
 * The last head the chain facts saw, or CHAIN_UNAVAILABLE while none was read (RPC down at boot)
 * or, with `maxAgeMs` > 0, when the RPC last answered for it longer ago than that: a head that old
 * may hide expired params and tickets past their validity, which must not be credited.
 */
export function currentHead(facts: ChainFacts, maxAgeMs = 0): ChainHead {
  let head: ChainHead;
  try {
    head = facts.head();
  } catch (cause) {
    throw new RecipientError(RecipientErrorCode.CHAIN_UNAVAILABLE, 'the chain head is not known yet', {
      cause,
    });
  }
  const readAt = facts.headReadAt();
  if (maxAgeMs > 0 && readAt !== undefined && Date.now() - readAt > maxAgeMs) {
    const seconds = Math.floor((Date.now() - readAt) / 1000);
    throw new RecipientError(
      RecipientErrorCode.CHAIN_UNAVAILABLE,
      `the chain head (block ${head.block}) was last read ${seconds} s ago, more than ` +
        `RECIPIENT_MAX_HEAD_AGE_SECONDS allows: refusing until the RPC answers again`,
    );
  }
  return head;
}
