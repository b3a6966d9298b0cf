import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { ChainTxError } from '#app/chain';
import { RedeemerError, RedeemerErrorCode } from '../redeemer.error.js';

/** The part of the platform's (express) response the filter uses. */
interface HttpResponse {
  status(code: number): { json(body: unknown): void };
  setHeader(name: string, value: string): void;
}

const STATUS: Record<RedeemerErrorCode, HttpStatus> = {
  [RedeemerErrorCode.UNAUTHORIZED]: HttpStatus.UNAUTHORIZED,
  [RedeemerErrorCode.INVALID_REQUEST]: HttpStatus.BAD_REQUEST,
  [RedeemerErrorCode.INVALID_TICKET_HASH]: HttpStatus.BAD_REQUEST,
  [RedeemerErrorCode.TICKET_NOT_FOUND]: HttpStatus.NOT_FOUND,
  [RedeemerErrorCode.TICKET_FINAL]: HttpStatus.CONFLICT,
  [RedeemerErrorCode.NOT_SERVED]: HttpStatus.CONFLICT,
  [RedeemerErrorCode.NOT_ACTIVE]: HttpStatus.SERVICE_UNAVAILABLE,
  [RedeemerErrorCode.NO_FEES]: HttpStatus.CONFLICT,
  [RedeemerErrorCode.WITHDRAWAL_FAILED]: HttpStatus.BAD_GATEWAY,
};

/** Maps every error of the /ops endpoints to a status and `{domain, code, message}`; nothing else leaks. */
@Catch()
export class OpsHttpFilter implements ExceptionFilter {
  private readonly logger = new Logger(OpsHttpFilter.name);

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<HttpResponse>();
    if (err instanceof RedeemerError) {
      if (err.code === RedeemerErrorCode.UNAUTHORIZED) res.setHeader('WWW-Authenticate', 'Bearer');
      res.status(STATUS[err.code]).json(err.toJSON());
      return;
    }
    if (err instanceof ChainTxError) {
      const status = err.retryable ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.BAD_GATEWAY;
      res.status(status).json(err.toJSON());
      return;
    }
    if (err instanceof HttpException) {
      res
        .status(err.getStatus())
        .json({ domain: 'http', code: HttpStatus[err.getStatus()], message: err.message });
      return;
    }
    this.logger.error({ msg: 'ops request failed', error: err instanceof Error ? err.message : String(err) });
    res
      .status(HttpStatus.INTERNAL_SERVER_ERROR)
      .json({ domain: 'redeemer', code: 'INTERNAL', message: 'internal error' });
  }
}
