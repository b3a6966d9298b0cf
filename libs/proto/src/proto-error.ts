import { AppError } from '#app/core';

export enum ProtoErrorCode {
  /** The bytes are not a valid protobuf encoding of the expected message. */
  MALFORMED_MESSAGE = 'MALFORMED_MESSAGE',
  /** The message parses but a field holds a value the protocol does not allow. */
  INVALID_FIELD = 'INVALID_FIELD',
  /** A `Livepeer-Payment` header is not standard padded base64. */
  INVALID_HEADER = 'INVALID_HEADER',
  /** A gRPC request larger than the server accepts (`*_GRPC_MAX_REQUEST_BYTES`); refused unread. */
  MESSAGE_TOO_LARGE = 'MESSAGE_TOO_LARGE',
}

/** Wire decoding/encoding failure; messages name the field, never echo secret values. */
export class ProtoError extends AppError<ProtoErrorCode> {
  readonly domain = 'proto';
}
