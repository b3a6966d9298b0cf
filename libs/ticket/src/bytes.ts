import { MAX_UINT256 } from './constants.js';
import { invalidInput } from './errors.js';

const HEX_PATTERN = /^0x(?:[0-9a-fA-F]{2})*$/;

/** Where short values are hex-encoded from (addresses, hashes): see `bytesToHex`. */
const HEX_SCRATCH = Buffer.allocUnsafeSlow(64);

/** `0x`-prefixed lowercase hex. */
export function bytesToHex(bytes: Uint8Array): string {
  // Node's native encoder gives a flat string, which is what the Redis keys and SQL values built
  // from it want. A short value is copied to a scratch buffer first: a view on its own buffer
  // would move a small typed array off V8's heap, which costs more than the copy.
  if (bytes.length <= HEX_SCRATCH.length) {
    HEX_SCRATCH.set(bytes);
    return '0x' + HEX_SCRATCH.toString('hex', 0, bytes.length);
  }
  return '0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/**
 * Parses `0x`-prefixed hex with an even number of digits; `length`, when given, is the exact
 * byte length required. `field` names the value in the error message.
 */
export function hexToBytes(hex: string, field: string, length?: number): Uint8Array {
  if (typeof hex !== 'string' || !HEX_PATTERN.test(hex)) {
    throw invalidInput(`${field} must be 0x-prefixed hex with an even number of digits`);
  }
  const bytes = Buffer.from(hex.slice(2), 'hex');
  if (length !== undefined && bytes.length !== length) {
    throw invalidInput(`${field} must be ${length} bytes, got ${bytes.length}`);
  }
  // A copy, not a view: small Buffers live in a shared pool slab, which a structured clone or
  // transfer would otherwise carry along whole.
  return new Uint8Array(bytes);
}

/** V8 keeps a typed array of up to this many bytes on its heap; a longer one gets a buffer of its own. */
const ON_HEAP_MAX = 64;
const SLAB_SIZE = 8192;
/** Longest array carved from the slab; longer ones are rare enough to get their own buffer. */
const SLAB_MAX = 512;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

/**
 * `length` zeroed bytes for a working array private to its owner (a batch's packed ticket, its
 * lottery preimage). Of 65–512 bytes it is a view on a shared 8 kB slab, as Node's Buffer pool
 * does: an array of its own over 64 bytes lives outside V8's heap and costs about 1 µs to create
 * (more to collect), and a 1-ticket payment made two. Its `.buffer` is shared: it must never be
 * handed out whole or transferred to a thread (hand out `slice()`s); it pins one slab while it lives.
 */
export function slabBytes(length: number): Uint8Array {
  if (length <= ON_HEAP_MAX || length > SLAB_MAX) return new Uint8Array(length);
  if (slabUsed + length > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const bytes = slab.subarray(slabUsed, slabUsed + length);
  slabUsed += length;
  return bytes;
}

/**
 * One u256 word of scratch space: u256 values are written and read through it as four 64-bit
 * words, with no hex string, and the caller's array is only ever copied to or from. (A DataView
 * on the caller's array would be slower: a small typed array lives on V8's heap, and asking it
 * for its buffer moves it off.) Synchronous use only; each worker thread has its own.
 */
const WORD = new DataView(new ArrayBuffer(32));
const WORD_BYTES = new Uint8Array(WORD.buffer);

/** Unsigned big-endian value of `bytes` (leading zeros tolerated, empty is 0): Go `SetBytes`. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  const length = bytes.length;
  if (length > 32) return BigInt(bytesToHex(bytes));
  WORD_BYTES.fill(0, 0, 32 - length);
  WORD_BYTES.set(bytes, 32 - length);
  return (
    (WORD.getBigUint64(0) << 192n) |
    (WORD.getBigUint64(8) << 128n) |
    (WORD.getBigUint64(16) << 64n) |
    WORD.getBigUint64(24)
  );
}

/** Minimal big-endian encoding, empty for 0: Go `big.Int.Bytes()` (`minbytes` in PROTOCOL.md). */
export function minBytes(value: bigint): Uint8Array {
  if (value < 0n) throw invalidInput('cannot encode a negative integer as unsigned bytes');
  if (value === 0n) return new Uint8Array(0);
  const hex = value.toString(16);
  return new Uint8Array(Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex'));
}

/** Throws unless 0 ≤ value ≤ 2^256 − 1; `field` names the value in the error message. */
export function assertUint256(value: bigint, field: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT256) {
    throw invalidInput(`${field} must be a uint256`);
  }
}

/**
 * An amount (wei) as decimal text from outside (a JSON body, a YAML file): digits only, at most
 * uint256's maximum. Undefined otherwise; each caller refuses in its own error type.
 */
export function uint256Text(raw: unknown): bigint | undefined {
  if (typeof raw !== 'string' || !/^\d{1,78}$/.test(raw)) return undefined;
  const value = BigInt(raw);
  return value <= MAX_UINT256 ? value : undefined;
}

/** Writes `value` as 32 big-endian bytes at `offset` (u256 in PROTOCOL.md); the caller guarantees a uint256. */
export function writeUint256(target: Uint8Array, offset: number, value: bigint): void {
  WORD.setBigUint64(24, BigInt.asUintN(64, value));
  WORD.setBigUint64(16, BigInt.asUintN(64, value >> 64n));
  WORD.setBigUint64(8, BigInt.asUintN(64, value >> 128n));
  WORD.setBigUint64(0, BigInt.asUintN(64, value >> 192n));
  target.set(WORD_BYTES, offset);
}

/** `value` as 32 big-endian bytes; the caller guarantees it is a uint256. */
export function uint256Bytes(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  writeUint256(out, 0, value);
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isZeroBytes(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Lexicographic comparison of equal-length byte strings, i.e. of big-endian numbers. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

/**
 * go-ethereum's `BytesToAddress`/`BytesToHash`: keep the last `length` bytes, left-pad
 * shorter input with zeros. Wire decoders use it so they read fields exactly as go-livepeer does.
 */
export function fitBytes(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  if (bytes.length >= length) out.set(bytes.subarray(bytes.length - length));
  else out.set(bytes, length - bytes.length);
  return out;
}

/** Throws unless `bytes` is a Uint8Array of exactly `length` bytes. */
export function assertLength(bytes: Uint8Array, length: number, field: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw invalidInput(`${field} must be ${length} bytes`);
  }
}
