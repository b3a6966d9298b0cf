import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { AppError, safeErrorMessage } from '#app/common';

/** The part of the platform's (express) response the filter uses. */
interface HttpResponse {
  status(code: number): { json(body: unknown): void };
  setHeader(name: string, value: string): void;
}

export interface HttpErrorBody {
  domain: string;
  code: string;
  message: string;
}

export interface HttpErrorAnswer {
  status: number;
  body: HttpErrorBody;
}

/** HTTP status per error code of one domain (`AppError.domain`). */
export type HttpStatusTable = Readonly<Record<string, HttpStatus>>;

/**
 * Base of each HTTP app's one exception filter: coded errors as their status and
 * `{domain, code, message}`, Nest's own HTTP errors (routing, body parsing) coded too, anything
 * else logged and answered 500 without its message, so nothing unexpected can leak.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  constructor(
    private readonly domain: string,
    private readonly tables: Readonly<Record<string, HttpStatusTable>>,
  ) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<HttpResponse>();
    const answer = this.answer(err);
    if (answer.status === (HttpStatus.UNAUTHORIZED as number)) res.setHeader('WWW-Authenticate', 'Bearer');
    res.status(answer.status).json(answer.body);
  }

  /** Subclasses may answer errors that are not in a table (and fall back to this). */
  protected answer(err: unknown): HttpErrorAnswer {
    if (err instanceof AppError) {
      const { domain, code, message } = err as AppError<string>;
      const status = this.tables[domain]?.[code];
      if (status !== undefined) return { status, body: { domain, code, message } };
    }
    if (err instanceof HttpException) {
      const status = err.getStatus();
      return {
        status,
        body: { domain: 'http', code: String(HttpStatus[status] ?? status), message: err.message },
      };
    }
    this.logger.error({ msg: 'request failed', error: safeErrorMessage(err) });
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      body: { domain: this.domain, code: 'INTERNAL', message: 'internal error' },
    };
  }
}
