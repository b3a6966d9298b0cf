import { Catch, HttpStatus } from '@nestjs/common';
import { HttpErrorFilter } from '#app/runtime';
import { OpsErrorCode } from '../ops.error.js';

const STATUS: Record<OpsErrorCode, HttpStatus> = {
  [OpsErrorCode.UNAUTHORIZED]: HttpStatus.UNAUTHORIZED,
  [OpsErrorCode.STALE_BLOCK]: HttpStatus.UNAUTHORIZED,
  [OpsErrorCode.BLOCK_AHEAD]: HttpStatus.UNAUTHORIZED,
  [OpsErrorCode.BAD_SIGNATURE]: HttpStatus.UNAUTHORIZED,
  [OpsErrorCode.SIGNATURE_REPLAYED]: HttpStatus.UNAUTHORIZED,
  [OpsErrorCode.INVALID_REQUEST]: HttpStatus.BAD_REQUEST,
  [OpsErrorCode.TICKET_NOT_FOUND]: HttpStatus.NOT_FOUND,
  [OpsErrorCode.TICKET_FINAL]: HttpStatus.CONFLICT,
  [OpsErrorCode.REDEEMER_NOT_CONFIGURED]: HttpStatus.SERVICE_UNAVAILABLE,
  [OpsErrorCode.REDEEMER_UNAVAILABLE]: HttpStatus.SERVICE_UNAVAILABLE,
  [OpsErrorCode.REDEEMER_REFUSED]: HttpStatus.BAD_GATEWAY,
  [OpsErrorCode.CHAIN_UNAVAILABLE]: HttpStatus.SERVICE_UNAVAILABLE,
};

/** Every error of the ops API as a status and `{domain, code, message}`; nothing else leaks. */
@Catch()
export class OpsHttpFilter extends HttpErrorFilter {
  constructor() {
    super('ops', { ops: STATUS });
  }
}
