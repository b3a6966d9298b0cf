import { hexToBytes, isZeroBytes } from './bytes.js';
import type { TicketExpirationParams, TicketParams } from './types.js';

/** B's own view of the last initialized round, from its chain head. */
export interface OwnRoundView {
  lastInitializedRound: bigint;
  /** 0x-hex, 32 bytes. */
  lastInitializedBlockHash: string;
}

/**
 * The expiration params a batch puts into auxData (go-livepeer CreateTicketBatch, §7.1 step 3):
 * O's own when it sent them with a non-zero round and block hash, otherwise B's view of the last
 * initialized round. O bound its values into recipientRand, so the fallback only works when both
 * views agree; it exists for orchestrators that do not send the values. `createTicketBatch` takes
 * the result as its template's `expirationParams`.
 */
export function batchExpirationParams(params: TicketParams, own: OwnRoundView): TicketExpirationParams {
  const fromO = params.expirationParams;
  if (fromO && fromO.creationRound !== 0n && !isZeroBytes(fromO.creationRoundBlockHash)) return fromO;
  return {
    creationRound: own.lastInitializedRound,
    creationRoundBlockHash: hexToBytes(own.lastInitializedBlockHash, 'lastInitializedBlockHash', 32),
  };
}
