import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import { ChainError, ChainErrorCode, SenderMonitorError, SenderMonitorErrorCode } from '#app/chain';
import type { AppError } from '#app/common';
import { ProtoError, ProtoErrorCode } from '#app/proto';
import { TicketError, TicketErrorCode } from '#app/ticket';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';
import { ERROR_CODE_KEY, ERROR_DOMAIN_KEY } from './error-trailers.js';

// Every code of every library the Recipient can surface, mapped once (STYLE.md §8). The Record
// types make a new code a compile error here until it is mapped.

const TICKET: Record<TicketErrorCode, GrpcStatus> = {
  [TicketErrorCode.INVALID_INPUT]: GrpcStatus.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_RECIPIENT]: GrpcStatus.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_SENDER]: GrpcStatus.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_RECIPIENT_RAND]: GrpcStatus.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_SIGNATURE]: GrpcStatus.INVALID_ARGUMENT,
  [TicketErrorCode.NONCE_ALREADY_SEEN]: GrpcStatus.ALREADY_EXISTS,
  [TicketErrorCode.TOO_MANY_NONCES]: GrpcStatus.RESOURCE_EXHAUSTED,
  [TicketErrorCode.PARAMS_EXPIRED]: GrpcStatus.FAILED_PRECONDITION,
  [TicketErrorCode.SENDER_UNLOCKING]: GrpcStatus.FAILED_PRECONDITION,
  [TicketErrorCode.MISSING_SENDER]: GrpcStatus.INVALID_ARGUMENT,
  [TicketErrorCode.MISSING_EXPIRATION_PARAMS]: GrpcStatus.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_PRICE]: GrpcStatus.INVALID_ARGUMENT,
  // Sender-side codes: never raised by the Recipient, mapped for completeness.
  [TicketErrorCode.PARAMS_MISSING]: GrpcStatus.FAILED_PRECONDITION,
  [TicketErrorCode.PARAMS_EXPIRATION_BLOCK_ZERO]: GrpcStatus.FAILED_PRECONDITION,
  [TicketErrorCode.FACE_VALUE_TOO_LOW]: GrpcStatus.FAILED_PRECONDITION,
  [TicketErrorCode.EV_TOO_HIGH]: GrpcStatus.FAILED_PRECONDITION,
  [TicketErrorCode.NO_SENDER_RESERVE]: GrpcStatus.FAILED_PRECONDITION,
  [TicketErrorCode.NO_SENDER_DEPOSIT]: GrpcStatus.FAILED_PRECONDITION,
  [TicketErrorCode.TOTAL_EV_TOO_HIGH]: GrpcStatus.FAILED_PRECONDITION,
  [TicketErrorCode.FACE_VALUE_TOO_HIGH]: GrpcStatus.FAILED_PRECONDITION,
  [TicketErrorCode.CRYPTO_BACKEND_UNAVAILABLE]: GrpcStatus.INTERNAL,
  [TicketErrorCode.VALIDATION_POOL_BUSY]: GrpcStatus.RESOURCE_EXHAUSTED,
  [TicketErrorCode.VALIDATION_POOL_CLOSED]: GrpcStatus.UNAVAILABLE,
  [TicketErrorCode.VALIDATION_WORKER_FAILED]: GrpcStatus.INTERNAL,
};

const RECIPIENT: Record<RecipientErrorCode, GrpcStatus> = {
  [RecipientErrorCode.INVALID_REQUEST]: GrpcStatus.INVALID_ARGUMENT,
  [RecipientErrorCode.INSUFFICIENT_SENDER_RESERVE]: GrpcStatus.FAILED_PRECONDITION,
  [RecipientErrorCode.PARAMS_UNKNOWN]: GrpcStatus.FAILED_PRECONDITION,
  [RecipientErrorCode.PRICE_MISMATCH]: GrpcStatus.INVALID_ARGUMENT,
  [RecipientErrorCode.TOO_MANY_TICKETS]: GrpcStatus.INVALID_ARGUMENT,
  [RecipientErrorCode.INSUFFICIENT_BALANCE]: GrpcStatus.FAILED_PRECONDITION,
  [RecipientErrorCode.BALANCE_CONTENTION]: GrpcStatus.ABORTED,
  [RecipientErrorCode.CHAIN_UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [RecipientErrorCode.SECRET_UNREADABLE]: GrpcStatus.INTERNAL,
  [RecipientErrorCode.SECRET_ROTATION_UNSUPPORTED]: GrpcStatus.FAILED_PRECONDITION,
};

const PROTO: Record<ProtoErrorCode, GrpcStatus> = {
  [ProtoErrorCode.MALFORMED_MESSAGE]: GrpcStatus.INVALID_ARGUMENT,
  [ProtoErrorCode.INVALID_FIELD]: GrpcStatus.INVALID_ARGUMENT,
  [ProtoErrorCode.INVALID_HEADER]: GrpcStatus.INVALID_ARGUMENT,
};

const CHAIN: Record<ChainErrorCode, GrpcStatus> = {
  [ChainErrorCode.ARTIFACT_MISSING]: GrpcStatus.INTERNAL,
  [ChainErrorCode.CONTRACT_NOT_REGISTERED]: GrpcStatus.INTERNAL,
  [ChainErrorCode.UNSUPPORTED_PROVIDER]: GrpcStatus.INTERNAL,
  [ChainErrorCode.CHAIN_UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [ChainErrorCode.REVERTED]: GrpcStatus.FAILED_PRECONDITION,
  [ChainErrorCode.NONCE_TOO_LOW]: GrpcStatus.UNAVAILABLE,
  [ChainErrorCode.REPLACEMENT_UNDERPRICED]: GrpcStatus.UNAVAILABLE,
  [ChainErrorCode.FEE_TOO_LOW]: GrpcStatus.UNAVAILABLE,
  [ChainErrorCode.SIGNER_INSUFFICIENT_FUNDS]: GrpcStatus.UNAVAILABLE,
  [ChainErrorCode.TX_DROPPED]: GrpcStatus.UNAVAILABLE,
  [ChainErrorCode.INVALID_TRANSACTION]: GrpcStatus.INTERNAL,
  [ChainErrorCode.INVALID_SIGNER]: GrpcStatus.INTERNAL,
  [ChainErrorCode.RPC_ERROR]: GrpcStatus.UNAVAILABLE,
};

export interface GrpcErrorResponse {
  code: GrpcStatus;
  message: string;
  details: string;
  metadata: Metadata;
}

/** Failures of the SenderMonitor service as its client reports them. */
const SENDER_MONITOR: Record<SenderMonitorErrorCode, GrpcStatus> = {
  [SenderMonitorErrorCode.INVALID_ARGUMENT]: GrpcStatus.INVALID_ARGUMENT,
  [SenderMonitorErrorCode.UNKNOWN_RECIPIENT]: GrpcStatus.FAILED_PRECONDITION,
  [SenderMonitorErrorCode.NO_RECIPIENT]: GrpcStatus.FAILED_PRECONDITION,
  [SenderMonitorErrorCode.TICKET_NOT_WINNING]: GrpcStatus.INVALID_ARGUMENT,
  [SenderMonitorErrorCode.STORE_FAILED]: GrpcStatus.UNAVAILABLE,
  [SenderMonitorErrorCode.CHAIN_UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [SenderMonitorErrorCode.UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [SenderMonitorErrorCode.BAD_RESPONSE]: GrpcStatus.INTERNAL,
  [SenderMonitorErrorCode.SUBSCRIPTION_CLOSED]: GrpcStatus.UNAVAILABLE,
  [SenderMonitorErrorCode.INTERNAL]: GrpcStatus.INTERNAL,
};

function statusOf(err: unknown): GrpcStatus | undefined {
  if (err instanceof TicketError) return TICKET[err.code];
  if (err instanceof RecipientError) return RECIPIENT[err.code];
  if (err instanceof ProtoError) return PROTO[err.code];
  if (err instanceof ChainError) return CHAIN[err.code];
  if (err instanceof SenderMonitorError) return SENDER_MONITOR[err.code];
  return undefined;
}

/**
 * Maps an error to the gRPC status answered: known codes keep their message (public values only)
 * and travel in the `error-code` trailer; anything else is logged and answered INTERNAL without
 * details, so no unexpected message can leak a secret.
 */
export function toGrpcError(err: unknown, logger?: Logger): GrpcErrorResponse {
  const metadata = new Metadata();
  const code = statusOf(err);
  if (code !== undefined) {
    const known = err as AppError;
    metadata.set(ERROR_CODE_KEY, known.code);
    metadata.set(ERROR_DOMAIN_KEY, known.domain);
    return { code, message: known.message, details: known.message, metadata };
  }
  logger?.error({ msg: 'unexpected error', error: err instanceof Error ? err.message : String(err) });
  metadata.set(ERROR_CODE_KEY, 'INTERNAL');
  return { code: GrpcStatus.INTERNAL, message: 'internal error', details: 'internal error', metadata };
}

/** The Recipient's one gRPC exception filter. */
@Catch()
export class RecipientExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RecipientGrpc');

  catch(exception: unknown): Observable<never> {
    return throwError(() => toGrpcError(exception, this.logger));
  }
}
