import { Metadata, status, type ServerUnaryCall } from '@grpc/grpc-js';
import { Catch, Injectable, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import { ProtoError } from '#app/proto';
import { TicketError } from '#app/ticket';
import { SenderMetrics } from '../metrics/sender.metrics.js';
import { SenderError } from '../sender.error.js';
import { PROTO_ERROR_STATUS, SENDER_ERROR_STATUS, TICKET_ERROR_STATUS } from './grpc-status.js';

/** Trailers carrying the stable error code, so clients match on it rather than on text. */
export const ERROR_DOMAIN_TRAILER = 'ticketpay-error-domain';
export const ERROR_CODE_TRAILER = 'ticketpay-error-code';

interface GrpcFailure {
  code: status;
  details: string;
  metadata: Metadata;
}

interface Classified {
  status: status;
  domain: string;
  code: string;
  message: string;
}

/** Maps a thrown error to its gRPC status; anything unknown is INTERNAL and its text is not sent. */
export function classifyError(err: unknown): Classified {
  if (err instanceof SenderError) {
    return {
      status: SENDER_ERROR_STATUS[err.code],
      domain: err.domain,
      code: err.code,
      message: err.message,
    };
  }
  if (err instanceof TicketError) {
    return {
      status: TICKET_ERROR_STATUS[err.code],
      domain: err.domain,
      code: err.code,
      message: err.message,
    };
  }
  if (err instanceof ProtoError) {
    return { status: PROTO_ERROR_STATUS[err.code], domain: err.domain, code: err.code, message: err.message };
  }
  return { status: status.INTERNAL, domain: 'internal', code: 'INTERNAL', message: 'internal error' };
}

/** The one exception filter of the Sender's gRPC transport: coded errors → status + code trailers. */
@Catch()
@Injectable()
export class SenderGrpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('SenderGrpc');

  constructor(private readonly metrics: SenderMetrics) {}

  catch(err: unknown, host: ArgumentsHost): Observable<never> {
    const classified = classifyError(err);
    const method = methodName(host);
    this.metrics.error(method, classified.domain, classified.code);
    if (classified.status === status.INTERNAL) {
      this.logger.error({
        msg: 'gRPC call failed',
        method,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    const metadata = new Metadata();
    metadata.set(ERROR_DOMAIN_TRAILER, classified.domain);
    metadata.set(ERROR_CODE_TRAILER, classified.code);
    const failure: GrpcFailure = {
      code: classified.status,
      details: `${classified.code}: ${classified.message}`,
      metadata,
    };
    return throwError(() => failure);
  }
}

/** `StartSession` from the call path `/ticketpay.sender.v1.Sender/StartSession`. */
function methodName(host: ArgumentsHost): string {
  const call = host.getArgByIndex<ServerUnaryCall<unknown, unknown> | undefined>(2);
  const path = typeof call?.getPath === 'function' ? call.getPath() : '';
  return path.split('/').pop() || 'unknown';
}
