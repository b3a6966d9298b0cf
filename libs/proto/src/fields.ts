import { MAX_INT64, MAX_UINT256, bytesToBigInt, fitBytes, minBytes } from '#app/ticket';
import { ProtoError, ProtoErrorCode } from './proto-error.js';

const MAX_UINT32 = 0xffff_ffff;

/** How an int64 arrives from protobufjs/proto-loader: a Long, a JS number or a decimal string. */
export type WireInt64 = number | string | { toString(): string };
/** How bytes arrive: Buffer/Uint8Array, or protobufjs's empty-array default for an absent field. */
export type WireBytes = Uint8Array | number[];

export function invalidField(message: string): ProtoError {
  return new ProtoError(ProtoErrorCode.INVALID_FIELD, message);
}

/** A private copy: decoded fields must not alias the caller's input buffer. */
export function readBytes(value: WireBytes | null | undefined): Uint8Array {
  if (value == null) return new Uint8Array(0);
  return new Uint8Array(value);
}

/** The wire value itself when it is bytes already (for reading only, never kept), else its bytes. */
function viewBytes(value: WireBytes | null | undefined): Uint8Array {
  if (value == null) return new Uint8Array(0);
  return value instanceof Uint8Array ? value : new Uint8Array(value);
}

/** go-ethereum `BytesToAddress`/`BytesToHash` semantics: last `length` bytes, left-padded. */
export function readFixed(value: WireBytes | null | undefined, length: number): Uint8Array {
  // fitBytes copies into a fresh array: one copy, not aliasing the input.
  return fitBytes(viewBytes(value), length);
}

/** Unsigned big-endian integer; leading zeros tolerated (Go `SetBytes`), at most 256 bits. */
export function readUint256(value: WireBytes | null | undefined, field: string): bigint {
  const n = bytesToBigInt(viewBytes(value));
  if (n > MAX_UINT256) throw invalidField(`${field} exceeds 256 bits`);
  return n;
}

export function readInt64(value: WireInt64 | null | undefined): bigint {
  return value == null ? 0n : BigInt(value.toString());
}

export function readUint32(value: number | null | undefined): number {
  return value ?? 0;
}

/** minbytes, omitted when zero (proto3 writes no empty bytes field; neither does Go). */
export function writeUint256(value: bigint, field: string): Uint8Array | undefined {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT256)
    throw invalidField(`${field} must be a uint256`);
  return value === 0n ? undefined : minBytes(value);
}

/** Fixed-size fields (addresses, hashes) are always written whole, as Go's `Address.Bytes()` does. */
export function writeFixed(value: Uint8Array, length: number, field: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length)
    throw invalidField(`${field} must be ${length} bytes`);
  return value;
}

/** Decimal string (protobufjs takes int64 that way without precision loss), omitted when zero. */
export function writeInt64(value: bigint, field: string): string | undefined {
  if (typeof value !== 'bigint' || value < -MAX_INT64 - 1n || value > MAX_INT64) {
    throw invalidField(`${field} must be an int64`);
  }
  return value === 0n ? undefined : value.toString();
}

export function writeUint32(value: number, field: string): number | undefined {
  if (!Number.isInteger(value) || value < 0 || value > MAX_UINT32)
    throw invalidField(`${field} must be a uint32`);
  return value === 0 ? undefined : value;
}
