import { Catch, HttpStatus, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { ChainTxError } from '#app/chain';
import { HttpErrorFilter, type HttpErrorAnswer } from '#app/runtime';
import { RedeemerErrorCode } from '#app/clients';

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
export class OpsHttpFilter extends HttpErrorFilter {
  constructor() {
    super('redeemer', { redeemer: STATUS });
  }

  /** A failed transaction (fee withdrawal) is the chain's answer: retry later, or a bad gateway. */
  protected override answer(err: unknown): HttpErrorAnswer {
    if (err instanceof ChainTxError) {
      const status = err.retryable ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.BAD_GATEWAY;
      return { status, body: err.toJSON() };
    }
    return super.answer(err);
  }
}

/**
 * Global, for requests under /ops that fail before the controller (and its filter) runs: no route
 * for the method and path, a body the JSON parser refuses or one too large. They get the same
 * coded answer; other paths keep Nest's own (terminus's /health 503 body with its details).
 */
@Catch()
export class OpsPathFilter extends BaseExceptionFilter {
  private readonly ops = new OpsHttpFilter();

  override catch(err: unknown, host: ArgumentsHost): void {
    const path = host.switchToHttp().getRequest<{ path?: string }>().path ?? '';
    if (host.getType() === 'http' && /^\/ops(\/|$)/.test(path)) this.ops.catch(err, host);
    else super.catch(err, host);
  }
}
