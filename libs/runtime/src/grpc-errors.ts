import { status, type Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import { Catch, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import { ChainErrorCode, WatcherErrorCode } from '#app/chain';
import { SenderMonitorErrorCode } from '#app/clients';
import { AppError, safeErrorMessage, setErrorTrailers } from '#app/common';
import { ProtoErrorCode } from '#app/proto';
import { TicketErrorCode } from '#app/ticket';

/** gRPC status per error code of one domain (`AppError.domain`). */
export type StatusTable = Readonly<Record<string, status>>;

// One table per shared library, typed as full Records so a new code fails the build until it is
// mapped (STYLE.md §8). Apps add their own domain and may override a library's table.

const TICKET: Record<TicketErrorCode, status> = {
  [TicketErrorCode.INVALID_INPUT]: status.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_RECIPIENT]: status.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_SENDER]: status.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_RECIPIENT_RAND]: status.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_SIGNATURE]: status.INVALID_ARGUMENT,
  [TicketErrorCode.NONCE_ALREADY_SEEN]: status.ALREADY_EXISTS,
  [TicketErrorCode.TOO_MANY_NONCES]: status.RESOURCE_EXHAUSTED,
  // Refresh the params and retry (go-livepeer's one acceptable sender-side error).
  [TicketErrorCode.PARAMS_EXPIRED]: status.FAILED_PRECONDITION,
  [TicketErrorCode.SENDER_UNLOCKING]: status.FAILED_PRECONDITION,
  [TicketErrorCode.MISSING_SENDER]: status.INVALID_ARGUMENT,
  [TicketErrorCode.MISSING_EXPIRATION_PARAMS]: status.INVALID_ARGUMENT,
  [TicketErrorCode.INVALID_PRICE]: status.INVALID_ARGUMENT,
  [TicketErrorCode.PARAMS_MISSING]: status.INVALID_ARGUMENT,
  [TicketErrorCode.PARAMS_EXPIRATION_BLOCK_ZERO]: status.INVALID_ARGUMENT,
  [TicketErrorCode.FACE_VALUE_TOO_LOW]: status.INVALID_ARGUMENT,
  [TicketErrorCode.EV_TOO_HIGH]: status.INVALID_ARGUMENT,
  [TicketErrorCode.TOTAL_EV_TOO_HIGH]: status.INVALID_ARGUMENT,
  // Depend on the sender's on-chain funds: fixable by funding, not by changing the request.
  [TicketErrorCode.NO_SENDER_RESERVE]: status.FAILED_PRECONDITION,
  [TicketErrorCode.NO_SENDER_DEPOSIT]: status.FAILED_PRECONDITION,
  [TicketErrorCode.FACE_VALUE_TOO_HIGH]: status.FAILED_PRECONDITION,
  [TicketErrorCode.CRYPTO_BACKEND_UNAVAILABLE]: status.INTERNAL,
  [TicketErrorCode.VALIDATION_POOL_BUSY]: status.RESOURCE_EXHAUSTED,
  [TicketErrorCode.VALIDATION_POOL_CLOSED]: status.UNAVAILABLE,
  [TicketErrorCode.VALIDATION_WORKER_FAILED]: status.INTERNAL,
};

const PROTO: Record<ProtoErrorCode, status> = {
  [ProtoErrorCode.MALFORMED_MESSAGE]: status.INVALID_ARGUMENT,
  [ProtoErrorCode.INVALID_FIELD]: status.INVALID_ARGUMENT,
  [ProtoErrorCode.INVALID_HEADER]: status.INVALID_ARGUMENT,
  [ProtoErrorCode.MESSAGE_TOO_LARGE]: status.RESOURCE_EXHAUSTED,
};

const CHAIN: Record<ChainErrorCode, status> = {
  [ChainErrorCode.ARTIFACT_MISSING]: status.INTERNAL,
  [ChainErrorCode.CONTRACT_NOT_REGISTERED]: status.INTERNAL,
  [ChainErrorCode.INVALID_TRANSCODER_POOL]: status.INTERNAL,
  [ChainErrorCode.UNSUPPORTED_PROVIDER]: status.INTERNAL,
  [ChainErrorCode.CHAIN_UNAVAILABLE]: status.UNAVAILABLE,
  [ChainErrorCode.REVERTED]: status.FAILED_PRECONDITION,
  [ChainErrorCode.NONCE_TOO_LOW]: status.UNAVAILABLE,
  [ChainErrorCode.REPLACEMENT_UNDERPRICED]: status.UNAVAILABLE,
  [ChainErrorCode.FEE_TOO_LOW]: status.UNAVAILABLE,
  [ChainErrorCode.SIGNER_INSUFFICIENT_FUNDS]: status.UNAVAILABLE,
  [ChainErrorCode.TX_DROPPED]: status.UNAVAILABLE,
  [ChainErrorCode.INVALID_TRANSACTION]: status.INTERNAL,
  [ChainErrorCode.INVALID_SIGNER]: status.INTERNAL,
  [ChainErrorCode.RPC_ERROR]: status.UNAVAILABLE,
};

const WATCHER: Record<WatcherErrorCode, status> = {
  [WatcherErrorCode.NOT_SYNCED]: status.UNAVAILABLE,
  [WatcherErrorCode.RPC_FAILED]: status.UNAVAILABLE,
};

/** The SenderMonitor's codes as its own server answers them (go-livepeer: a foreign recipient is PermissionDenied). */
const SENDER_MONITOR: Record<SenderMonitorErrorCode, status> = {
  [SenderMonitorErrorCode.INVALID_ARGUMENT]: status.INVALID_ARGUMENT,
  [SenderMonitorErrorCode.UNKNOWN_RECIPIENT]: status.PERMISSION_DENIED,
  [SenderMonitorErrorCode.NO_RECIPIENT]: status.FAILED_PRECONDITION,
  [SenderMonitorErrorCode.TICKET_NOT_WINNING]: status.INVALID_ARGUMENT,
  [SenderMonitorErrorCode.STORE_FAILED]: status.INTERNAL,
  [SenderMonitorErrorCode.CHAIN_UNAVAILABLE]: status.UNAVAILABLE,
  [SenderMonitorErrorCode.UNAVAILABLE]: status.UNAVAILABLE,
  [SenderMonitorErrorCode.BAD_RESPONSE]: status.INTERNAL,
  [SenderMonitorErrorCode.SUBSCRIPTION_CLOSED]: status.CANCELLED,
  [SenderMonitorErrorCode.INTERNAL]: status.INTERNAL,
};

export const LIBRARY_STATUS_TABLES: Readonly<Record<string, StatusTable>> = {
  ticket: TICKET,
  proto: PROTO,
  chain: CHAIN,
  'chain-watcher': WATCHER,
  'sender-monitor': SENDER_MONITOR,
};

export interface ClassifiedError {
  status: status;
  domain: string;
  code: string;
  /** Public values only; for unknown errors a fixed text, so nothing unexpected can leak. */
  message: string;
}

export interface GrpcErrorResponse {
  code: status;
  message: string;
  details: string;
  metadata: Metadata;
}

/** Maps errors to gRPC answers from one set of tables: library defaults plus an app's own domains. */
export class GrpcErrorMapper {
  private readonly tables: Readonly<Record<string, StatusTable>>;

  constructor(appTables: Readonly<Record<string, StatusTable>>) {
    this.tables = { ...LIBRARY_STATUS_TABLES, ...appTables };
  }

  classify(err: unknown): ClassifiedError {
    if (err instanceof AppError) {
      const { domain, code, message } = err as AppError<string>;
      const mapped = this.tables[domain]?.[code];
      if (mapped !== undefined) return { status: mapped, domain, code, message };
    }
    return { status: status.INTERNAL, domain: 'internal', code: 'INTERNAL', message: 'internal error' };
  }

  /** The error as grpc-js sends it: status, message as details, code and domain in trailers. */
  toResponse(err: unknown): GrpcErrorResponse {
    return responseOf(this.classify(err));
  }
}

function responseOf(c: ClassifiedError): GrpcErrorResponse {
  return {
    code: c.status,
    message: c.message,
    details: c.message,
    metadata: setErrorTrailers(c.code, c.domain),
  };
}

/**
 * Base of each app's one gRPC exception filter: classify, count, log what was unexpected, answer.
 * Subclasses pass their mapper and may record metrics in `onError`.
 */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('Grpc');

  constructor(private readonly mapper: GrpcErrorMapper) {}

  catch(err: unknown, host: ArgumentsHost): Observable<never> {
    const classified = this.mapper.classify(err);
    const method = methodName(host);
    this.onError(classified, method);
    if (classified.status === status.INTERNAL) {
      this.logger.error({
        msg: 'gRPC call failed',
        method,
        error: safeErrorMessage(err),
      });
    }
    return throwError(() => responseOf(classified));
  }

  protected onError(_error: ClassifiedError, _method: string): void {}
}

/** `StartSession` from the call path `/ticketpay.sender.v1.Sender/StartSession`. */
function methodName(host: ArgumentsHost): string {
  const call = host.getArgByIndex<ServerUnaryCall<unknown, unknown> | undefined>(2);
  const path = typeof call?.getPath === 'function' ? call.getPath() : '';
  return path.split('/').pop() || 'unknown';
}
