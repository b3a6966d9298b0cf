import { AUX_DATA_LENGTH, HASH_LENGTH } from './constants.js';
import { assertLength, assertUint256, isZeroBytes, writeUint256 } from './bytes.js';
import type { TicketExpirationParams } from './types.js';

/** True when go-livepeer appends auxData: unless round and block hash are both zero (§2.2). */
export function hasAuxData(params: TicketExpirationParams): boolean {
  return params.creationRound !== 0n || !isZeroBytes(params.creationRoundBlockHash);
}

function assertExpirationParams(params: TicketExpirationParams): void {
  assertUint256(params.creationRound, 'creationRound');
  assertLength(params.creationRoundBlockHash, HASH_LENGTH, 'creationRoundBlockHash');
}

/**
 * auxData = u256(creationRound) ‖ creationRoundBlockHash, or empty when both are zero. An empty
 * auxData can be hashed and signed but the contract will never redeem it (it requires 64 bytes).
 */
export function auxData(params: TicketExpirationParams): Uint8Array {
  assertExpirationParams(params);
  if (!hasAuxData(params)) return new Uint8Array(0);
  const out = new Uint8Array(AUX_DATA_LENGTH);
  writeUint256(out, 0, params.creationRound);
  out.set(params.creationRoundBlockHash, 32);
  return out;
}
