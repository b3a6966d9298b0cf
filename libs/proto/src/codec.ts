import protobuf from 'protobufjs';
import { ProtoError, ProtoErrorCode } from './proto-error.js';

/**
 * Converts one domain type to and from protobuf. `toMessage`/`fromMessage` work on the plain
 * camelCase objects protobufjs and @grpc/proto-loader use (int64 as Long, number or decimal
 * string; bytes as Uint8Array), so gRPC handlers share the same validation as the byte codecs.
 */
export interface MessageCodec<T, M> {
  encode(value: T): Uint8Array;
  /** The bytes of a value already converted with `toMessage` (when the message is used twice). */
  encodeMessage(message: M): Uint8Array;
  /** Throws ProtoError MALFORMED_MESSAGE for bad protobuf, INVALID_FIELD for bad values. */
  decode(bytes: Uint8Array): T;
  toMessage(value: T): M;
  fromMessage(message: M): T;
}

export function messageCodec<T, M extends object>(
  type: protobuf.Type,
  toMessage: (value: T) => M,
  fromMessage: (message: M) => T,
): MessageCodec<T, M> {
  const encodeMessage = (message: M) => type.encode(message).finish();
  return {
    encode: (value) => encodeMessage(toMessage(value)),
    encodeMessage,
    decode(bytes) {
      let message: M;
      try {
        message = type.decode(bytes) as unknown as M;
      } catch (cause) {
        throw new ProtoError(ProtoErrorCode.MALFORMED_MESSAGE, `malformed ${type.name} message`, { cause });
      }
      return fromMessage(message);
    },
    toMessage,
    fromMessage,
  };
}

/**
 * Throws MALFORMED_MESSAGE unless `bytes` parse as protobuf fields of any message (for blobs
 * passed on without being interpreted, e.g. `net.Capabilities`).
 */
export function assertWellFormedMessage(bytes: Uint8Array, name: string): void {
  const reader = protobuf.Reader.create(bytes);
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 0) throw new Error('field number 0');
      reader.skipType(tag & 7);
    }
  } catch (cause) {
    throw new ProtoError(ProtoErrorCode.MALFORMED_MESSAGE, `malformed ${name} message`, { cause });
  }
}
