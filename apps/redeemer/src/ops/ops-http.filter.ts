import { Catch, HttpStatus } from '@nestjs/common';
import { ChainTxError } from '#app/chain';
import { HttpErrorFilter, type HttpErrorAnswer } from '#app/runtime';
import { RedeemerErrorCode } from '../redeemer.error.js';

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
