import { HttpStatus } from '@nestjs/common';
import { AppError } from '#app/common';

/** go-livepeer's remote signer statuses beside the standard ones (docs/remote-signer.md §7). */
export const HTTP_REFRESH_SESSION = 480;
export const HTTP_PRICE_EXCEEDED = 481;
export const HTTP_NO_TICKETS = 482;
/**
 * The Python SDK's `InsufficientBalance`: the signer cannot pay whichever orchestrator is asked,
 * so the SDK stops instead of trying the next one.
 */
export const HTTP_INSUFFICIENT_BALANCE = 483;
/** Header of a 480 answer: where the gateway fetches fresh OrchestratorInfo. */
export const ORCHESTRATOR_URL_HEADER = 'Livepeer-Orchestrator-URL';

/** Stable codes of the remote signer endpoints; API and metric labels, never renamed. */
export enum RemoteSignerErrorCode {
  /** Malformed request JSON or field (go-livepeer answers these 400 too). */
  INVALID_REQUEST = 'INVALID_REQUEST',
  /** `state.Sig` does not seal `state.State`: a forged or altered state. */
  INVALID_STATE_SIGNATURE = 'INVALID_STATE_SIGNATURE',
  /** A correctly sealed state that does not fit the request (orchestrator, app, type, account, token). */
  STATE_MISMATCH = 'STATE_MISMATCH',
  /** Fetch fresh OrchestratorInfo (auth token ending, params expired, nonces used up) and retry. */
  REFRESH_SESSION = 'REFRESH_SESSION',
  /** The orchestrator's price is above a ceiling (configured, request, webhook or the session's first). */
  PRICE_EXCEEDED = 'PRICE_EXCEEDED',
  /** The balance already covers this call: nothing was signed; call again later. */
  NO_TICKETS_NEEDED = 'NO_TICKETS_NEEDED',
  /** More tickets than SENDER_REMOTE_SIGNER_MAX_TICKETS would be needed. */
  TOO_MANY_TICKETS = 'TOO_MANY_TICKETS',
  /** The auth webhook answered a status other than 200; the answer carries that status. */
  WEBHOOK_DENIED = 'WEBHOOK_DENIED',
  /** The auth webhook could not be asked or gave no usable answer: refused (fail closed). */
  WEBHOOK_FAILED = 'WEBHOOK_FAILED',
  /** The caller's identity (webhook auth_id or Signer-Auth-Id) differs from the session's. */
  AUTH_ID_CHANGED = 'AUTH_ID_CHANGED',
  /** `GET /discover-orchestrators`: this signer keeps no orchestrator pool (go-livepeer's 503). */
  DISCOVERY_UNAVAILABLE = 'DISCOVERY_UNAVAILABLE',
  /** A signer path called with another method than its own (Go's mux: 405 with `Allow`). */
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
}

export const REMOTE_SIGNER_STATUS: Record<RemoteSignerErrorCode, number> = {
  [RemoteSignerErrorCode.INVALID_REQUEST]: HttpStatus.BAD_REQUEST,
  [RemoteSignerErrorCode.INVALID_STATE_SIGNATURE]: HttpStatus.BAD_REQUEST,
  [RemoteSignerErrorCode.STATE_MISMATCH]: HttpStatus.BAD_REQUEST,
  [RemoteSignerErrorCode.REFRESH_SESSION]: HTTP_REFRESH_SESSION,
  [RemoteSignerErrorCode.PRICE_EXCEEDED]: HTTP_PRICE_EXCEEDED,
  [RemoteSignerErrorCode.NO_TICKETS_NEEDED]: HTTP_NO_TICKETS,
  [RemoteSignerErrorCode.TOO_MANY_TICKETS]: HttpStatus.BAD_REQUEST,
  [RemoteSignerErrorCode.WEBHOOK_DENIED]: HttpStatus.FORBIDDEN,
  [RemoteSignerErrorCode.WEBHOOK_FAILED]: HttpStatus.BAD_GATEWAY,
  [RemoteSignerErrorCode.AUTH_ID_CHANGED]: HttpStatus.FORBIDDEN,
  [RemoteSignerErrorCode.DISCOVERY_UNAVAILABLE]: HttpStatus.SERVICE_UNAVAILABLE,
  [RemoteSignerErrorCode.METHOD_NOT_ALLOWED]: HttpStatus.METHOD_NOT_ALLOWED,
};

/** A refused remote signer request; `status` and `headers` override the table (webhook verdicts, 480). */
export class RemoteSignerError extends AppError<RemoteSignerErrorCode> {
  readonly domain = 'remote-signer';
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: RemoteSignerErrorCode,
    message: string,
    opts: { status?: number; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(code, message, { cause: opts.cause });
    this.status = opts.status ?? REMOTE_SIGNER_STATUS[code];
    this.headers = opts.headers ?? {};
  }
}

export const invalidRequest = (message: string, cause?: unknown): RemoteSignerError =>
  new RemoteSignerError(RemoteSignerErrorCode.INVALID_REQUEST, message, { cause });
