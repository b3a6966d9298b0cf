import type { CryptoBackend } from './crypto/backend.js';
import { selectCryptoBackend } from './crypto/select-backend.js';
import type { Rational } from './rational.js';
import { PersonalDigester } from './signature.js';
import { TicketHasher } from './ticket-hash.js';
import type { TicketBatch, TicketExpirationParams, TicketParams } from './types.js';

export interface TicketBatchRequest {
  params: TicketParams;
  /** The values to put into auxData: O's when it sent non-zero ones, else B's own view (§7.1). */
  expirationParams: TicketExpirationParams;
  pricePerPixel: Rational;
  /** One ticket per nonce; go-livepeer counts 1, 2, 3… per session. */
  nonces: readonly number[];
  /** B's 32-byte signing key; the batch's sender is its address. */
  privateKey: Uint8Array;
}

/**
 * Builds and signs a batch as go-livepeer's `CreateTicketBatch` does (§7.1 steps 4–5). Params
 * validation (§7.3) is the caller's, with `validateTicketParams`, before signing.
 */
export function createTicketBatch(
  request: TicketBatchRequest,
  backend: CryptoBackend = selectCryptoBackend(),
): TicketBatch {
  const { params, expirationParams, privateKey } = request;
  const sender = backend.addressOf(privateKey);
  const hasher = new TicketHasher({
    recipient: params.recipient,
    sender,
    faceValue: params.faceValue,
    winProb: params.winProb,
    recipientRandHash: params.recipientRandHash,
    ...expirationParams,
  });
  const digester = new PersonalDigester();
  const senderParams = request.nonces.map((senderNonce) => ({
    senderNonce,
    sig: backend.sign(digester.digest(hasher.hash(senderNonce)), privateKey),
  }));
  return { params, expirationParams, sender, pricePerPixel: request.pricePerPixel, senderParams };
}
