import { SIGNATURE_LENGTH } from './constants.js';
import { assertUint256, bytesToBigInt, compareBytes, slabBytes, writeUint256 } from './bytes.js';
import { keccak256 } from './keccak.js';

/**
 * Runs the lottery for the tickets of one batch: draw = keccak256(sig ‖ u256(recipientRand)),
 * a ticket wins iff draw < winProb (§4). The 97-byte preimage and winProb's 32 bytes are built
 * once per batch, written in place (a 1-ticket payment is a batch: one checker each); a draw is
 * compared as bytes, which orders like the big-endian integers.
 */
export class WinChecker {
  private readonly preimage = slabBytes(SIGNATURE_LENGTH + 32);
  private readonly winProb = new Uint8Array(32);

  constructor(recipientRand: bigint, winProb: bigint) {
    assertUint256(recipientRand, 'recipientRand');
    assertUint256(winProb, 'winProb');
    writeUint256(this.preimage, SIGNATURE_LENGTH, recipientRand);
    writeUint256(this.winProb, 0, winProb);
  }

  /** The 32-byte draw for a 65-byte signature. */
  draw(sig: Uint8Array): Uint8Array {
    if (sig.length !== SIGNATURE_LENGTH) throw new RangeError('the win draw needs a 65-byte signature');
    this.preimage.set(sig, 0);
    return keccak256(this.preimage);
  }

  isWinning(sig: Uint8Array): boolean {
    return compareBytes(this.draw(sig), this.winProb) < 0;
  }
}

/** keccak256(sig ‖ u256(recipientRand)) as an integer. */
export function winRandomness(sig: Uint8Array, recipientRand: bigint): bigint {
  return bytesToBigInt(new WinChecker(recipientRand, 0n).draw(sig));
}

/** Whether the ticket signed with `sig` wins; the contract's `isWinningTicket`. */
export function isWinningTicket(sig: Uint8Array, recipientRand: bigint, winProb: bigint): boolean {
  return new WinChecker(recipientRand, winProb).isWinning(sig);
}
