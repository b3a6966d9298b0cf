import { AppError } from '#app/common';
import { readBoundedBody } from '../bounded-body.js';
import { splitUrlCredentials } from '../../url-credentials.js';

/** Why the orchestrator webhook gave no list: stable codes, never renamed. */
export enum OrchestratorWebhookErrorCode {
  UNREACHABLE = 'UNREACHABLE',
  TIMEOUT = 'TIMEOUT',
  HTTP_STATUS = 'HTTP_STATUS',
  TOO_LARGE = 'TOO_LARGE',
  MALFORMED = 'MALFORMED',
}

/** The webhook's answer is unusable. The message never carries its URL (it may hold credentials). */
export class OrchestratorWebhookError extends AppError<OrchestratorWebhookErrorCode> {
  readonly domain = 'orchestrator-webhook';
}

/** Largest body read from the webhook: a list of thousands of orchestrators fits well within it. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

/** go-livepeer's bound on one webhook call. */
export const WEBHOOK_TIMEOUT_MS = 3_000;

export interface OrchestratorWebhookOptions {
  timeoutMs?: number;
  maxBytes?: number;
}

/**
 * GETs go-livepeer's `-orchWebhookUrl`: a JSON array of `{address, score}`. URL credentials
 * (user:password@) go as Basic auth, as Go's HTTP client sends them (fetch refuses them in the URL).
 */
export class OrchestratorWebhookClient {
  // ECMAScript-private: neither util.inspect nor JSON shows the URL and what it carries.
  readonly #target: URL;
  readonly #headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(url: string, options: OrchestratorWebhookOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
    this.maxBytes = options.maxBytes ?? MAX_WEBHOOK_BODY_BYTES;
    const { target, basicAuth } = splitUrlCredentials(url);
    this.#target = target;
    this.#headers = { accept: 'application/json' };
    if (basicAuth) this.#headers.authorization = basicAuth;
  }

  /** The webhook's entries, unchecked one by one (see webhookEntryAddress). */
  async entries(): Promise<unknown[]> {
    // One deadline for the answer and its body, as Go's http.Client.Timeout.
    const signal = AbortSignal.timeout(this.timeoutMs);
    let body: Buffer;
    try {
      const res = await fetch(this.#target, { headers: this.#headers, redirect: 'follow', signal });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        throw failed(OrchestratorWebhookErrorCode.HTTP_STATUS, `answered HTTP ${res.status}`);
      }
      const read = await readBoundedBody(res, this.maxBytes);
      if (!read) {
        throw failed(OrchestratorWebhookErrorCode.TOO_LARGE, `answered more than ${this.maxBytes} bytes`);
      }
      body = read;
    } catch (err) {
      if (err instanceof OrchestratorWebhookError) throw err;
      // Not the cause: fetch's errors may quote the URL.
      if (signal.aborted) {
        throw failed(OrchestratorWebhookErrorCode.TIMEOUT, `did not answer within ${this.timeoutMs} ms`);
      }
      throw failed(OrchestratorWebhookErrorCode.UNREACHABLE, 'is unreachable');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw failed(OrchestratorWebhookErrorCode.MALFORMED, 'answered something that is not JSON');
    }
    if (!Array.isArray(parsed)) {
      throw failed(OrchestratorWebhookErrorCode.MALFORMED, 'answered JSON that is not an array');
    }
    return parsed as unknown[];
  }
}

/**
 * An entry's `address` (go-livepeer's webhookResponse: `address` string, `score` number); throws
 * why the entry is unusable. The score is checked, not used: every listed orchestrator scores 1.
 */
export function webhookEntryAddress(entry: unknown): string {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new Error('the entry is not an object');
  }
  const { address, score } = entry as Record<string, unknown>;
  if (typeof address !== 'string') throw new Error('the entry has no "address" string');
  // A null score is Go's zero value, as an absent one.
  if (score !== undefined && score !== null && typeof score !== 'number') {
    throw new Error('the entry\'s "score" is not a number');
  }
  return address;
}

const failed = (code: OrchestratorWebhookErrorCode, why: string) =>
  new OrchestratorWebhookError(code, `the orchestrator webhook ${why}`);
