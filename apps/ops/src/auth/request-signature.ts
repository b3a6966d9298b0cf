import { getBytes, keccak256, toUtf8Bytes } from 'ethers';
import { bytesToHex, personalSigner, selectCryptoBackend, type CryptoBackend } from '#app/ticket';

/**
 * Signed ops requests, after snet-daemon's claim authorisation: instead of the bearer token, a
 * mutating call may carry a signature of the recipient's key over the request and a recent block
 * number. The signer signs (EIP-191 personal_sign) the 32-byte keccak256 of the canonical string
 *
 *   ticketpay-ops-v1 \n METHOD \n path?query \n keccak256(body JSON) \n blockNumber
 *
 * where the body JSON is the body as `JSON.stringify` writes it (`{}` for none). The block number
 * bounds how long a signature is good for: the server refuses one more than a few blocks old.
 */
export const SIGNATURE_HEADER = 'x-ticketpay-signature';
export const BLOCK_HEADER = 'x-ticketpay-block';
export const SIGNATURE_SCHEME = 'ticketpay-ops-v1';

export interface SignableRequest {
  method: string;
  /** Path and query string exactly as sent, e.g. `/api/v1/tickets/0xab…/redeem`. */
  path: string;
  /** The parsed JSON body; undefined, null or '' mean none. */
  body: unknown;
  block: bigint;
}

export function bodyHash(body: unknown): string {
  const json = body === undefined || body === null || body === '' ? '{}' : JSON.stringify(body);
  return keccak256(toUtf8Bytes(json));
}

export function canonicalRequest(req: SignableRequest): string {
  return [
    SIGNATURE_SCHEME,
    req.method.toUpperCase(),
    req.path,
    bodyHash(req.body),
    req.block.toString(),
  ].join('\n');
}

/** The 32 bytes the signer personal_signs. */
export function requestDigest(req: SignableRequest): string {
  return keccak256(toUtf8Bytes(canonicalRequest(req)));
}

/** Anything that can personal_sign bytes (an ethers Wallet or Signer). */
export interface MessageSigner {
  signMessage(message: Uint8Array): Promise<string>;
}

/** The headers a client adds to sign a request (what the tests and any client script use). */
export async function signRequest(
  signer: MessageSigner,
  req: SignableRequest,
): Promise<Record<string, string>> {
  const signature = await signer.signMessage(getBytes(requestDigest(req)));
  return { [SIGNATURE_HEADER]: signature, [BLOCK_HEADER]: req.block.toString() };
}

let backend: CryptoBackend | undefined;

/**
 * The lowercase address that signed `req`, by the ticket library's signature rules (low s,
 * v ∈ {27, 28}); throws on a malformed signature.
 */
export function recoverRequestSigner(req: SignableRequest, signature: string): string {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) throw new Error('expected a 65-byte 0x-hex signature');
  backend ??= selectCryptoBackend();
  const signer = personalSigner(getBytes(requestDigest(req)), getBytes(signature), backend);
  if (!signer) throw new Error('the signature is malformed (s must be in the lower half, v 27 or 28)');
  return bytesToHex(signer);
}

/** Where a named block stands against the head: fresh, too old, or not mined yet. */
export function blockFreshness(
  block: bigint,
  head: bigint,
  maxAgeBlocks: number,
): 'fresh' | 'stale' | 'ahead' {
  if (block > head) return 'ahead';
  return head - block > BigInt(maxAgeBlocks) ? 'stale' : 'fresh';
}
