import { Injectable } from '@nestjs/common';
import { MAX_AUTH_ID_CHARS } from '#app/ticket';
import { SenderConfig } from '../sender.config.js';
import { readBoundedBody } from './bounded-body.js';
import { splitUrlCredentials } from '../url-credentials.js';
import { goFields, goMaxPrice, parseGoJson } from './go-json.js';
import { RemoteSignerError, RemoteSignerErrorCode } from './remote-signer.error.js';

/** What an allowing webhook reply carries (go-livepeer's authResponse). */
export interface WebhookVerdict {
  /** Unix seconds until which the authorization holds (0: ask again next call). */
  expiry: number;
  /** Caller identity, empty when the reply has none. */
  authId: string;
  /** The reply's `maxPrice` object as sent; the caller parses it for its job type. */
  maxPrice: unknown;
}

/** Largest webhook reply read. */
const MAX_REPLY_BYTES = 64 * 1024;

/**
 * go-livepeer's `-remoteSignerWebhookUrl` client: POSTs `{headers, state}` with the configured
 * headers and honours the reply's `status`, `reason`, `expiry`, `auth_id` and `maxPrice`. Fails
 * closed: no answer, a non-200 HTTP answer or an unusable reply refuses the request.
 */
@Injectable()
export class SignerWebhook {
  // ECMAScript-private: neither util.inspect nor JSON shows the URL and what it carries.
  readonly #target: URL | undefined;
  readonly #headers: Headers;
  private readonly timeoutMs: number;

  constructor(config: SenderConfig) {
    const v = config.values;
    // As Go's request: Content-Type set, then each configured header set over it (one value per
    // name, the last given wins), and the URL's user:password@ only when no Authorization is set.
    this.#headers = new Headers({ 'Content-Type': 'application/json' });
    for (const [name, value] of v.SENDER_REMOTE_SIGNER_WEBHOOK_HEADERS) this.#headers.set(name, value);
    if (v.SENDER_REMOTE_SIGNER_WEBHOOK_URL !== undefined) {
      const { target, basicAuth } = splitUrlCredentials(v.SENDER_REMOTE_SIGNER_WEBHOOK_URL);
      this.#target = target;
      if (basicAuth && !this.#headers.has('authorization')) this.#headers.set('Authorization', basicAuth);
    }
    this.timeoutMs = v.SENDER_REMOTE_SIGNER_WEBHOOK_TIMEOUT_MS;
  }

  get enabled(): boolean {
    return this.#target !== undefined;
  }

  async authorize(
    headers: Record<string, string[]>,
    state: Record<string, unknown>,
  ): Promise<WebhookVerdict> {
    // Go json.Unmarshals the reply into authResponse (goFields): keys match in any case (`Status`,
    // `Auth_ID`), the last of a repeated key wins, and `status` (*int) and `expiry` (int64) must be
    // integer literals (`200.0` or `2e2` fail the decode: go-livepeer answers 500, here 502).
    const reply = goFields(await this.call(JSON.stringify({ headers, state })));
    const status = reply('status', '*int');
    const reason = reply('reason', 'string') ?? '';
    const expiry = reply('expiry', 'int') ?? 0n;
    const authId = reply('auth_id', 'string') ?? '';
    if (typeof status !== 'bigint' || status <= 0n) {
      throw failed('the webhook reply has no valid "status" (a positive integer)');
    }
    if (typeof reason !== 'string') throw failed('the webhook reply\'s "reason" is not a string');
    if (typeof expiry !== 'bigint' || expiry > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw failed('the webhook reply\'s "expiry" is not unix seconds (an integer)');
    }
    if (typeof authId !== 'string' || authId.length > MAX_AUTH_ID_CHARS) {
      throw failed(
        `the webhook reply's "auth_id" is not a string of at most ${MAX_AUTH_ID_CHARS} characters`,
      );
    }
    if (status !== 200n) {
      const why = reason !== '' ? reason.slice(0, 512) : `signer auth rejected request with status ${status}`;
      if (status < 400n || status > 599n) throw failed(`the webhook answered status ${status}: ${why}`);
      throw new RemoteSignerError(RemoteSignerErrorCode.WEBHOOK_DENIED, why, { status: Number(status) });
    }
    // An expiry in the past (negative too, which Go takes) holds for this call only, as 0 does.
    const holds = expiry > 0n ? Number(expiry) : 0;
    return { expiry: holds, authId, maxPrice: goMaxPrice(reply('maxPrice', '*struct')) };
  }

  private async call(body: string): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await fetch(this.#target!, {
        method: 'POST',
        headers: this.#headers,
        body,
        // As Go's client: redirects are followed (a 307/308 posts the body again), and one to
        // another origin drops the Authorization header.
        redirect: 'follow',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      throw failed(
        timedOut ? `the webhook did not answer within ${this.timeoutMs} ms` : 'the webhook is unreachable',
      );
    }
    const text = (await readBoundedBody(res, MAX_REPLY_BYTES).catch(() => undefined))?.toString('utf8');
    if (res.status !== 200) throw failed(`the webhook answered HTTP ${res.status}`);
    let parsed: unknown;
    try {
      // Numbers' text kept: a reply's maxPrice is read exactly, as Go's json.Number reads it.
      parsed = parseGoJson(text ?? '');
    } catch {
      throw failed('the webhook reply is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw failed('the webhook reply is not a JSON object');
    }
    return parsed as Record<string, unknown>;
  }
}

const failed = (why: string) =>
  new RemoteSignerError(
    RemoteSignerErrorCode.WEBHOOK_FAILED,
    `signer auth failed (nothing was signed): ${why}`,
  );

/** Go's `CanonicalMIMEHeaderKey`: `x-request-id` → `X-Request-Id`. */
export function canonicalHeaderName(name: string): string {
  return name
    .split('-')
    .map((part) => (part === '' ? part : part[0].toUpperCase() + part.slice(1).toLowerCase()))
    .join('-');
}

/** Headers Go's HTTP server takes out of a request's header map (into `Host`, `TransferEncoding`). */
const NOT_FORWARDED = new Set(['host', 'transfer-encoding']);

/**
 * The incoming request's headers as go-livepeer forwards them (canonical names, lists of values,
 * no `Host` nor `Transfer-Encoding`), minus `Authorization` when it carried a ticketpay API token:
 * that secret is ours, not the webhook's.
 */
export function webhookHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  dropAuthorization: boolean,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NOT_FORWARDED.has(name.toLowerCase())) continue;
    if (dropAuthorization && name.toLowerCase() === 'authorization') continue;
    out[canonicalHeaderName(name)] = Array.isArray(value) ? value : [value];
  }
  return out;
}
