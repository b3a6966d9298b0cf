import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { OpsError, OpsErrorCode } from '../ops.error.js';

interface HttpResponse {
  status(code: number): { json(body: unknown): void };
  setHeader(name: string, value: string): void;
}

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
export class OpsHttpFilter implements ExceptionFilter {
  private readonly logger = new Logger(OpsHttpFilter.name);

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<HttpResponse>();
    if (err instanceof OpsError) {
      if (STATUS[err.code] === HttpStatus.UNAUTHORIZED) res.setHeader('WWW-Authenticate', 'Bearer');
      res.status(STATUS[err.code]).json(err.toJSON());
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
      .json({ domain: 'ops', code: 'INTERNAL', message: 'internal error' });
  }
}
