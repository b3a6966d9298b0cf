import type { IncomingHttpHeaders } from 'node:http';
import { All, Body, Controller, Get, Header, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import { AppError } from '#app/common';
import { MAX_AUTH_ID_CHARS } from '#app/ticket';
import { SenderMetrics } from '../metrics/sender.metrics.js';
import { parseByocJobRequest } from './byoc-job-request.js';
import { goJsonText } from './go-json.js';
import { parseLivePaymentRequest } from './live-payment-request.js';
import { RemoteCallers } from './remote-callers.js';
import { invalidRequest, RemoteSignerError, RemoteSignerErrorCode } from './remote-signer.error.js';
import { RemoteSignerHttpFilter } from './remote-signer.filter.js';
import { AUTH_ID_HEADER, RemoteSignerService } from './remote-signer.service.js';
import { OrchestratorPool } from './discovery/orchestrator-pool.js';
import { signerJson } from './signer-body.js';
import { webhookHeaders } from './signer-webhook.js';

/** The part of the HTTP request the endpoints read. */
interface SignerRequest {
  headers: IncomingHttpHeaders;
  headersDistinct?: Record<string, string[]>;
}

/**
 * go-livepeer's remote signer API on the Sender's HTTP port (docs/remote-signer.md): gateways
 * started with `-remoteSignerUrl` and the Python SDK's `signer_url` get tickets here.
 */
@Controller()
@UseFilters(RemoteSignerHttpFilter)
export class RemoteSignerController {
  constructor(
    private readonly callers: RemoteCallers,
    private readonly signer: RemoteSignerService,
    private readonly metrics: SenderMetrics,
    private readonly pool: OrchestratorPool,
  ) {}

  @Post('sign-orchestrator-info')
  @HttpCode(200)
  signOrchestratorInfo(@Req() req: SignerRequest) {
    return this.counted('sign-orchestrator-info', () =>
      this.signer.signOrchestratorInfo(this.callers.resolve(req.headers)),
    );
  }

  @Post('generate-live-payment')
  @HttpCode(200)
  generateLivePayment(@Req() req: SignerRequest, @Body() body: unknown) {
    return this.counted('generate-live-payment', () => {
      const caller = this.callers.resolve(req.headers);
      const request = parseLivePaymentRequest(signerJson(body));
      return this.signer.generateLivePayment(
        caller,
        request,
        () => webhookHeaders(req.headersDistinct ?? req.headers, caller.tokenUsed),
        authIdHeader(req),
      );
    });
  }

  /** BYOC job credentials, under the same caller authentication as sign-orchestrator-info. */
  @Post('sign-byoc-job')
  @HttpCode(200)
  signByocJob(@Req() req: SignerRequest, @Body() body: unknown) {
    return this.counted('sign-byoc-job', () => {
      const caller = this.callers.resolve(req.headers);
      return this.signer.signByocJob(caller, parseByocJobRequest(signerJson(body)));
    });
  }

  /**
   * The orchestrator pool (SENDER_REMOTE_SIGNER_DISCOVERY), filtered by repeated `caps` query
   * values as go-livepeer matches them; 503 without a pool (docs/remote-signer.md §2b). No caller
   * authentication, as upstream: it lists what any gateway learns from the chain and the
   * orchestrators themselves, and signs nothing.
   */
  @Get('discover-orchestrators')
  @Header('Content-Type', 'application/json; charset=utf-8')
  async discoverOrchestrators(@Req() req: { url?: string }): Promise<string> {
    // Written as Go writes it: a runner's integers and price exactly (goJsonText).
    const listed = await this.counted('discover-orchestrators', () =>
      this.pool.list(capsQuery(req.url ?? '')),
    );
    return goJsonText(listed);
  }

  /**
   * Any other method on a signer path: go-livepeer's mux registers `POST /…` (and `GET
   * /discover-orchestrators`) and answers the rest 405 with `Allow`. Declared last, so the
   * routes above take their own method first.
   */
  @All(['sign-orchestrator-info', 'generate-live-payment', 'sign-byoc-job', 'discover-orchestrators'])
  methodNotAllowed(@Req() req: { path?: string }): never {
    const allow = req.path?.includes('discover-orchestrators') ? 'GET, HEAD' : 'POST';
    throw new RemoteSignerError(RemoteSignerErrorCode.METHOD_NOT_ALLOWED, 'method not allowed', {
      headers: { Allow: allow },
    });
  }

  /** Counts a refusal by its code (ticketpay_sender_errors_total), then lets the filter answer it. */
  private async counted<T>(method: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const e = err instanceof AppError ? (err as AppError<string>) : undefined;
      this.metrics.error(method, e?.domain ?? 'remote-signer', e?.code ?? 'INTERNAL');
      throw err;
    }
  }
}

/**
 * The `Signer-Auth-Id` header as Go's `Header.Get` reads it (its first value, not Node's "a, b"
 * join of repeated ones), bounded as the session's state keeps it.
 */
function authIdHeader(req: SignerRequest): string {
  const raw = req.headersDistinct?.[AUTH_ID_HEADER]?.[0] ?? req.headers[AUTH_ID_HEADER];
  const value = typeof raw === 'string' ? raw : '';
  if (value.length > MAX_AUTH_ID_CHARS) {
    throw invalidRequest(`the Signer-Auth-Id header must be at most ${MAX_AUTH_ID_CHARS} characters`);
  }
  return value;
}

/** The non-empty `caps` values of a request URL's query (Go's `URL.Query()["caps"]`). */
function capsQuery(url: string): string[] {
  const at = url.indexOf('?');
  if (at < 0) return [];
  return new URLSearchParams(url.slice(at + 1)).getAll('caps').filter((c) => c !== '');
}
