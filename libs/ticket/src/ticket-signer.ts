import type { AccountSigner } from './account-signer.js';
import type { CryptoBackend } from './crypto/backend.js';
import { selectCryptoBackend } from './crypto/select-backend.js';
import type { Rational } from './rational.js';
import { PersonalDigester } from './signature.js';
import { TicketHasher, ticketTemplate } from './ticket-hash.js';
import type { Address, Bytes32, TicketBatch, TicketExpirationParams, TicketParams } from './types.js';

/** A batch to build: everything but who signs it. */
export interface TicketBatchTemplate {
  params: TicketParams;
  /** The values to put into auxData: O's when it sent non-zero ones, else B's own view (§7.1). */
  expirationParams: TicketExpirationParams;
  pricePerPixel: Rational;
  /** One ticket per nonce; go-livepeer counts 1, 2, 3… per session. */
  nonces: readonly number[];
}

export interface TicketBatchRequest extends TicketBatchTemplate {
  /** B's 32-byte signing key; the batch's sender is its address. */
  privateKey: Uint8Array;
}

function batchHasher(template: TicketBatchTemplate, sender: Address): TicketHasher {
  const { params, expirationParams } = template;
  return new TicketHasher(ticketTemplate({ sender, params, expirationParams }));
}

function assembleBatch(
  template: TicketBatchTemplate,
  sender: Address,
  sigs: readonly Uint8Array[],
): TicketBatch {
  return {
    params: template.params,
    expirationParams: template.expirationParams,
    sender,
    pricePerPixel: template.pricePerPixel,
    senderParams: template.nonces.map((senderNonce, i) => ({ senderNonce, sig: sigs[i] })),
  };
}

/**
 * Builds and signs a batch as go-livepeer's `CreateTicketBatch` does (§7.1 steps 4–5) with a key
 * held here. Params validation (§7.3) is the caller's, with `validateTicketParams`, before signing.
 */
export function createTicketBatch(
  request: TicketBatchRequest,
  backend: CryptoBackend = selectCryptoBackend(),
): TicketBatch {
  const { privateKey } = request;
  const sender = backend.addressOf(privateKey);
  const hasher = batchHasher(request, sender);
  const digester = new PersonalDigester();
  const sigs = request.nonces.map((nonce) => backend.sign(digester.digest(hasher.hash(nonce)), privateKey));
  return assembleBatch(request, sender, sigs);
}

/**
 * The same batch signed through an `AccountSigner` port (a keystore or a remote signing service):
 * the ticket hashes are computed here, only the 32-byte hashes go to the signer.
 */
export async function signTicketBatch(
  template: TicketBatchTemplate,
  signer: AccountSigner,
): Promise<TicketBatch> {
  const hasher = batchHasher(template, signer.address);
  const hashes: Bytes32[] = template.nonces.map((nonce) => hasher.hash(nonce));
  const sigs = await signer.signPersonalBatch(hashes);
  return assembleBatch(template, signer.address, sigs);
}
