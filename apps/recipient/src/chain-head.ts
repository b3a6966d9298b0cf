import type { ChainFacts, ChainHead } from '#app/chain';
import { RecipientError, RecipientErrorCode } from './recipient.error.js';

/** The last head the chain facts saw, or CHAIN_UNAVAILABLE while none was read (RPC down at boot). */
export function currentHead(facts: ChainFacts): ChainHead {
  try {
    return facts.head();
  } catch (cause) {
    throw new RecipientError(RecipientErrorCode.CHAIN_UNAVAILABLE, 'the chain head is not known yet', {
      cause,
    });
  }
}
