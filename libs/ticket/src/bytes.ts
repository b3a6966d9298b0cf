import { MAX_UINT256 } from './constants.js';
import { invalidInput } from './errors.js';

const HEX_PATTERN = /^0x(?:[0-9a-fA-F]{2})*$/;

/** `0x`-prefixed lowercase hex. */
export function bytesToHex(bytes: Uint8Array): string {
  // Node's native encoder, on a view (no copy): about twice as fast as joining per-byte strings
  // from 32 bytes up, and a flat string, which is what the Redis keys and SQL values built from it want.
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

/** Inputs up to this many bytes are read in 64-bit words; longer ones through hex (linear). */
const WORDWISE_MAX_BYTES = 64;

/** Unsigned big-endian value of `bytes` (leading zeros tolerated, empty is 0): Go `SetBytes`. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  const length = bytes.length;
  if (length > WORDWISE_MAX_BYTES) return BigInt(bytesToHex(bytes));
  // Word by word: a hex string and its parse cost about twice as much for a 32-byte value.
  const head = length % 8;
  let value = 0n;
  for (let i = 0; i < head; i++) value = (value << 8n) | BigInt(bytes[i]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  for (let i = head; i < length; i += 8) value = (value << 64n) | view.getBigUint64(i);
  return value;
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
  // Four 64-bit words: no hex string, no temporary buffer (a payment writes several of these).
  const view = new DataView(target.buffer, target.byteOffset + offset, 32);
  view.setBigUint64(24, BigInt.asUintN(64, value));
  view.setBigUint64(16, BigInt.asUintN(64, value >> 64n));
  view.setBigUint64(8, BigInt.asUintN(64, value >> 128n));
  view.setBigUint64(0, BigInt.asUintN(64, value >> 192n));
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
