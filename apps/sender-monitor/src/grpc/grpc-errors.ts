import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { Catch, Injectable, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import {
  ChainError,
  ChainErrorCode,
  ERROR_CODE_TRAILER,
  ERROR_DOMAIN_TRAILER,
  SenderMonitorError,
  SenderMonitorErrorCode,
  WatcherError,
  WatcherErrorCode,
} from '#app/chain';
import { AppError } from '#app/common';
import { ProtoError, ProtoErrorCode } from '#app/proto';
import { TicketError, TicketErrorCode } from '#app/ticket';
import { SenderMonitorMetrics } from '../metrics/sender-monitor.metrics.js';

// Every code of every library the SenderMonitor can surface, mapped once (STYLE.md §8). The
// Record types make a new code a compile error here until it is mapped.

const MONITOR: Record<SenderMonitorErrorCode, GrpcStatus> = {
  [SenderMonitorErrorCode.INVALID_ARGUMENT]: GrpcStatus.INVALID_ARGUMENT,
  // go-livepeer answers a ticket for another recipient with PermissionDenied.
  [SenderMonitorErrorCode.UNKNOWN_RECIPIENT]: GrpcStatus.PERMISSION_DENIED,
  [SenderMonitorErrorCode.NO_RECIPIENT]: GrpcStatus.FAILED_PRECONDITION,
  [SenderMonitorErrorCode.TICKET_NOT_WINNING]: GrpcStatus.INVALID_ARGUMENT,
  [SenderMonitorErrorCode.STORE_FAILED]: GrpcStatus.INTERNAL,
  [SenderMonitorErrorCode.CHAIN_UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [SenderMonitorErrorCode.UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [SenderMonitorErrorCode.BAD_RESPONSE]: GrpcStatus.INTERNAL,
  [SenderMonitorErrorCode.SUBSCRIPTION_CLOSED]: GrpcStatus.CANCELLED,
  [SenderMonitorErrorCode.INTERNAL]: GrpcStatus.INTERNAL,
};

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
  // Sender-side codes: never raised here, mapped for completeness.
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

const PROTO: Record<ProtoErrorCode, GrpcStatus> = {
  [ProtoErrorCode.MALFORMED_MESSAGE]: GrpcStatus.INVALID_ARGUMENT,
  [ProtoErrorCode.INVALID_FIELD]: GrpcStatus.INVALID_ARGUMENT,
  [ProtoErrorCode.INVALID_HEADER]: GrpcStatus.INVALID_ARGUMENT,
};

const WATCHER: Record<WatcherErrorCode, GrpcStatus> = {
  [WatcherErrorCode.NOT_SYNCED]: GrpcStatus.UNAVAILABLE,
  [WatcherErrorCode.RPC_FAILED]: GrpcStatus.UNAVAILABLE,
  [WatcherErrorCode.GAS_PRICE_TOO_HIGH]: GrpcStatus.UNAVAILABLE,
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

function statusOf(err: AppError<string>): GrpcStatus | undefined {
  if (err instanceof SenderMonitorError) return MONITOR[err.code];
  if (err instanceof TicketError) return TICKET[err.code];
  if (err instanceof ProtoError) return PROTO[err.code];
  if (err instanceof WatcherError) return WATCHER[err.code];
  if (err instanceof ChainError) return CHAIN[err.code];
  return undefined;
}

/**
 * The gRPC status an error is answered with. Known codes keep their message (built from public
 * values only) and travel in the `error-code`/`error-domain` trailers; anything else is logged and
 * answered INTERNAL without details, so an unexpected message cannot leak a secret.
 */
export function toGrpcError(err: unknown, logger?: Logger): GrpcErrorResponse {
  const metadata = new Metadata();
  const known = err instanceof AppError ? (err as AppError<string>) : undefined;
  const code = known && statusOf(known);
  if (known && code !== undefined) {
    metadata.set(ERROR_CODE_TRAILER, known.code);
    metadata.set(ERROR_DOMAIN_TRAILER, known.domain);
    return { code, message: known.message, details: known.message, metadata };
  }
  logger?.error({ msg: 'unexpected error', error: err instanceof Error ? err.message : String(err) });
  metadata.set(ERROR_CODE_TRAILER, SenderMonitorErrorCode.INTERNAL);
  metadata.set(ERROR_DOMAIN_TRAILER, 'sender-monitor');
  return { code: GrpcStatus.INTERNAL, message: 'internal error', details: 'internal error', metadata };
}

/** The SenderMonitor's one gRPC exception filter (both services). */
@Catch()
@Injectable()
export class SenderMonitorExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('SenderMonitorGrpc');

  constructor(private readonly metrics: SenderMonitorMetrics) {}

  catch(exception: unknown): Observable<never> {
    const response = toGrpcError(exception, this.logger);
    this.metrics.errors.inc({ code: String(response.metadata.get(ERROR_CODE_TRAILER)[0] ?? 'INTERNAL') });
    return throwError(() => response);
  }
}
