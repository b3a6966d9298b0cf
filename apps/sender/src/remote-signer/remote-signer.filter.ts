import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';
import { AppError, safeErrorMessage } from '#app/common';
import { ProtoError } from '#app/proto';
import { TicketError, TicketErrorCode } from '#app/ticket';
import { SenderErrorCode } from '../sender.error.js';
import { HTTP_INSUFFICIENT_BALANCE, HTTP_PRICE_EXCEEDED, RemoteSignerError } from './remote-signer.error.js';
import { SIGNER_PATH } from './signer-body.js';

const SENDER_STATUS: Record<SenderErrorCode, number> = {
  [SenderErrorCode.UNAUTHENTICATED]: HttpStatus.UNAUTHORIZED,
  [SenderErrorCode.ACCOUNT_NOT_PERMITTED]: HttpStatus.FORBIDDEN,
  [SenderErrorCode.INVALID_REQUEST]: HttpStatus.BAD_REQUEST,
  [SenderErrorCode.SESSION_NOT_FOUND]: HttpStatus.CONFLICT,
  [SenderErrorCode.SESSION_CONFLICT]: HttpStatus.CONFLICT,
  [SenderErrorCode.RECIPIENT_NOT_ALLOWED]: HttpStatus.FORBIDDEN,
  [SenderErrorCode.PRICE_TOO_HIGH]: HTTP_PRICE_EXCEEDED,
  [SenderErrorCode.WIN_PROB_ZERO]: HttpStatus.BAD_REQUEST,
  [SenderErrorCode.NONCE_CAP_REACHED]: HttpStatus.CONFLICT,
  [SenderErrorCode.RATE_LIMITED]: HttpStatus.TOO_MANY_REQUESTS,
  // A caller's allowance spent: no other orchestrator would be paid either.
  [SenderErrorCode.SPEND_CAP_REACHED]: HTTP_INSUFFICIENT_BALANCE,
  [SenderErrorCode.CHAIN_UNAVAILABLE]: HttpStatus.SERVICE_UNAVAILABLE,
  // The signing service (Web3Signer) is this node's upstream: its faults are not the caller's.
  [SenderErrorCode.SIGNER_UNAVAILABLE]: HttpStatus.SERVICE_UNAVAILABLE,
  [SenderErrorCode.SIGNER_REFUSED]: HttpStatus.BAD_GATEWAY,
  [SenderErrorCode.SIGNER_BAD_RESPONSE]: HttpStatus.BAD_GATEWAY,
  [SenderErrorCode.SIGNER_WRONG_ACCOUNT]: HttpStatus.BAD_GATEWAY,
};

/**
 * Every ticket code's status, so that a new code must be placed here; null: not the caller's
 * fault (this node's), logged and answered 500 without detail.
 */
const TICKET_STATUS: Record<TicketErrorCode, number | null> = {
  [TicketErrorCode.INVALID_INPUT]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.INVALID_RECIPIENT]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.INVALID_SENDER]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.INVALID_RECIPIENT_RAND]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.INVALID_SIGNATURE]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.NONCE_ALREADY_SEEN]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.TOO_MANY_NONCES]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.PARAMS_EXPIRED]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.MISSING_SENDER]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.MISSING_EXPIRATION_PARAMS]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.INVALID_PRICE]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.PARAMS_MISSING]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.PARAMS_EXPIRATION_BLOCK_ZERO]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.FACE_VALUE_TOO_LOW]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.EV_TOO_HIGH]: HttpStatus.BAD_REQUEST,
  [TicketErrorCode.TOTAL_EV_TOO_HIGH]: HttpStatus.BAD_REQUEST,
  // A face value the funds cannot back is this orchestrator's: another's may fit.
  [TicketErrorCode.FACE_VALUE_TOO_HIGH]: HttpStatus.PRECONDITION_FAILED,
  // The account's on-chain funds cannot back any orchestrator's tickets.
  [TicketErrorCode.NO_SENDER_DEPOSIT]: HTTP_INSUFFICIENT_BALANCE,
  [TicketErrorCode.NO_SENDER_RESERVE]: HTTP_INSUFFICIENT_BALANCE,
  [TicketErrorCode.SENDER_UNLOCKING]: HTTP_INSUFFICIENT_BALANCE,
  [TicketErrorCode.CRYPTO_BACKEND_UNAVAILABLE]: null,
  [TicketErrorCode.VALIDATION_POOL_BUSY]: null,
  [TicketErrorCode.VALIDATION_POOL_CLOSED]: null,
  [TicketErrorCode.VALIDATION_WORKER_FAILED]: null,
};

interface HttpResponse {
  status(code: number): { json(body: unknown): void };
  setHeader(name: string, value: string): void;
}

/**
 * go-livepeer's error envelope `{"error": {"message"}}`, with ticketpay's stable `code` and
 * `domain` beside the message. Anything unexpected is logged and answered 500 without detail.
 */
@Catch()
export class RemoteSignerHttpFilter implements ExceptionFilter {
  private readonly logger = new Logger('RemoteSigner');

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<HttpResponse>();
    const { status, code, domain, message, headers } = this.answer(err);
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    res.status(status).json({ error: { message, code, domain } });
  }

  private answer(err: unknown): {
    status: number;
    code: string;
    domain: string;
    message: string;
    headers: Readonly<Record<string, string>>;
  } {
    const none = {};
    if (err instanceof RemoteSignerError) {
      return {
        status: err.status,
        code: err.code,
        domain: err.domain,
        message: err.message,
        headers: err.headers,
      };
    }
    if (err instanceof AppError && err.domain === 'sender') {
      const e = err as AppError<string>;
      const status = SENDER_STATUS[e.code as SenderErrorCode] ?? HttpStatus.INTERNAL_SERVER_ERROR;
      return { status, code: e.code, domain: e.domain, message: e.message, headers: none };
    }
    const ticketStatus = err instanceof TicketError ? TICKET_STATUS[err.code] : null;
    if (err instanceof TicketError && ticketStatus) {
      return {
        status: ticketStatus,
        code: err.code,
        domain: err.domain,
        message: err.message,
        headers: none,
      };
    }
    if (err instanceof ProtoError) {
      return { status: 400, code: err.code, domain: err.domain, message: err.message, headers: none };
    }
    if (err instanceof AppError && err.domain === 'chain') {
      const e = err as AppError<string>;
      return { status: 503, code: e.code, domain: e.domain, message: 'chain unavailable', headers: none };
    }
    if (err instanceof HttpException) {
      const status = err.getStatus();
      return {
        status,
        code: String(HttpStatus[status] ?? status),
        domain: 'http',
        message: err.message,
        headers: none,
      };
    }
    this.logger.error({
      msg: 'remote signer request failed',
      error: safeErrorMessage(err),
    });
    return {
      status: 500,
      code: 'INTERNAL',
      domain: 'remote-signer',
      message: 'Internal Server Error',
      headers: none,
    };
  }
}

/**
 * Global, for remote signer requests that fail before the controller runs (a body over the limit,
 * refused by readSignerBody): the same envelope. Other HTTP paths keep Nest's answer; gRPC errors
 * pass through to the gRPC filter.
 */
@Catch()
export class RemoteSignerPathFilter extends BaseExceptionFilter {
  private readonly signer = new RemoteSignerHttpFilter();

  override catch(err: unknown, host: ArgumentsHost): void | Observable<never> {
    if (host.getType() !== 'http') return throwError(() => err);
    const path = host.switchToHttp().getRequest<{ path?: string }>().path ?? '';
    if (SIGNER_PATH.test(path)) this.signer.catch(err, host);
    else super.catch(err, host);
  }
}
