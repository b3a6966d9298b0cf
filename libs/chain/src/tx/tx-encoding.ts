import { keccak256, type SigningKey } from 'ethers';
import type { FeeQuote } from './fees.js';

/** What a redemption (or fee withdrawal) tx carries; `to` and `data` are 0x-prefixed hex. */
export interface TxFields {
  chainId: bigint;
  nonce: bigint;
  to: string;
  data: string;
  value: bigint;
  gasLimit: bigint;
  fees: FeeQuote;
}

/**
 * Signs a type-2 (EIP-1559) or legacy (EIP-155) tx, RLP-encoding its fields once: the unsigned
 * payload (whose Keccak is signed) and the signed one share every field up to the data, so the
 * calldata (tens of kB for a batch) is converted from hex once. ethers' Wallet.signTransaction
 * validates and serializes the whole tx twice (unsigned for the digest, signed for the raw bytes),
 * about a third of the signing time of a batch. The result is byte for byte ethers' (tx-encoding.spec.ts).
 */
export function signTx(key: SigningKey, tx: TxFields): { raw: string; hash: string } {
  const data = hexBytes(tx.data, 'data');
  const to = hexBytes(tx.to, 'to');
  if (to.length !== 20) throw new Error('to must be a 20-byte address');
  if (tx.fees.type === 2) {
    const fields = Buffer.concat([
      int(tx.chainId),
      int(tx.nonce),
      int(tx.fees.maxPriorityFeePerGas),
      int(tx.fees.maxFeePerGas),
      int(tx.gasLimit),
      item(to),
      int(tx.value),
      item(data),
      EMPTY_LIST, // access list
    ]);
    const sig = key.sign(keccak256(typed(2, list(fields))));
    const raw = typed(2, list(fields, [int(BigInt(sig.yParity)), int(BigInt(sig.r)), int(BigInt(sig.s))]));
    return { raw: hex(raw), hash: keccak256(raw) };
  }
  const common = Buffer.concat([
    int(tx.nonce),
    int(tx.fees.gasPrice),
    int(tx.gasLimit),
    item(to),
    int(tx.value),
    item(data),
  ]);
  const sig = key.sign(keccak256(list(common, [int(tx.chainId), int(0n), int(0n)])));
  const v = tx.chainId * 2n + 35n + BigInt(sig.yParity);
  const raw = list(common, [int(v), int(BigInt(sig.r)), int(BigInt(sig.s))]);
  return { raw: hex(raw), hash: keccak256(raw) };
}

const EMPTY_LIST = Buffer.from([0xc0]);

function hexBytes(value: string, what: string): Buffer {
  const bytes = Buffer.from(value.startsWith('0x') ? value.slice(2) : value, 'hex');
  // Buffer.from stops at the first non-hex pair: a length mismatch means the input was not hex.
  if (!value.startsWith('0x') || bytes.length * 2 !== value.length - 2)
    throw new Error(`${what} is not 0x hex`);
  return bytes;
}

/** Big-endian bytes of a length or quantity, no leading zeros (0 → none). */
function beBytes(n: bigint): Buffer {
  if (n < 0n) throw new Error('a tx quantity cannot be negative');
  if (n === 0n) return Buffer.alloc(0);
  const h = n.toString(16);
  return Buffer.from(h.length % 2 ? `0${h}` : h, 'hex');
}

/** RLP of a byte string. */
function item(b: Buffer): Buffer {
  if (b.length === 1 && b[0] < 0x80) return b;
  return Buffer.concat([header(0x80, b.length), b]);
}

const int = (n: bigint): Buffer => item(beBytes(n));

function header(offset: number, length: number): Buffer {
  if (length < 56) return Buffer.from([offset + length]);
  const len = beBytes(BigInt(length));
  return Buffer.concat([Buffer.from([offset + 55 + len.length]), len]);
}

/** RLP list of already-encoded items: `shared`, then `more`. */
function list(shared: Buffer, more: Buffer[] = []): Buffer {
  const tail = Buffer.concat(more);
  return Buffer.concat([header(0xc0, shared.length + tail.length), shared, tail]);
}

const typed = (type: number, payload: Buffer): Buffer => Buffer.concat([Buffer.from([type]), payload]);

const hex = (b: Buffer): string => `0x${b.toString('hex')}`;
