import { uint256Text } from '#app/ticket';
import type { RedeemerErrorCode } from './redeemer.error.js';
import {
  isRedeemerJobAction,
  REDEEMER_OPS_ROUTES,
  type RedeemerJobAction,
  type RedeemNowBody,
  type WithdrawFeesBody,
} from './redeemer-ops.contract.js';

export interface RedeemerOpsEndpoint {
  /** e.g. http://127.0.0.1:8933 (the Redeemer's HTTP port). */
  baseUrl: string;
  token: string;
}

/**
 * Why a call to the Redeemer's /ops API failed: it did not answer (`unavailable`, with the
 * transport's error code), it answered with a refusal (`refused`, with its error code when the body
 * carried one), or it answered success with a body this client cannot read (`unexpected`). The
 * message never holds the URL or the token.
 */
export class RedeemerOpsCallError extends Error {
  constructor(
    readonly reason: 'unavailable' | 'refused' | 'unexpected',
    message: string,
    readonly details: {
      status?: number;
      /** The Redeemer's error code and message, when it refused with a coded body. */
      code?: RedeemerErrorCode | string;
      refusal?: string;
      transport?: string;
    } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RedeemerOpsCallError';
  }

  /** The Redeemer refused with this code. */
  is(code: RedeemerErrorCode): boolean {
    return this.reason === 'refused' && this.details.code === code;
  }
}

export interface RedeemerFeeWithdrawal {
  txHash: string;
  amount: bigint;
  to: string;
}

/** A client of the Redeemer's operator API: the Redeemer owns redemption and fee withdrawal; callers only ask. */
export class RedeemerOpsHttpClient {
  constructor(
    private readonly endpoint: RedeemerOpsEndpoint,
    private readonly timeoutMs: number,
  ) {}

  /** Makes the ticket due now; `ignoreGasLimits` lets it pass the gas price / cost limits once. */
  async redeemNow(ticketHash: string, ignoreGasLimits: boolean): Promise<{ job: RedeemerJobAction }> {
    const body: RedeemNowBody = ignoreGasLimits ? { ignoreGasLimits: true } : {};
    const { status, parsed } = await this.post(
      REDEEMER_OPS_ROUTES.redeemNow.replace(':ticketHash', encodeURIComponent(ticketHash)),
      body,
    );
    if (!isRedeemerJobAction(parsed.job)) throw unexpected(status);
    return { job: parsed.job };
  }

  async withdrawFees(request: { amount?: bigint; to?: string }): Promise<RedeemerFeeWithdrawal> {
    const body: WithdrawFeesBody = {
      ...(request.amount === undefined ? {} : { amount: request.amount.toString() }),
      ...(request.to === undefined ? {} : { to: request.to }),
    };
    const { status, parsed } = await this.post(REDEEMER_OPS_ROUTES.withdrawFees, body);
    const { txHash, to } = parsed;
    const amount = uint256Text(parsed.amount);
    if (typeof txHash !== 'string' || amount === undefined || typeof to !== 'string')
      throw unexpected(status);
    return { txHash, amount, to };
  }

  /** One authenticated POST; resolves the parsed body of a 2xx answer, throws on anything else. */
  private async post(
    route: string,
    body: unknown,
  ): Promise<{ status: number; parsed: Record<string, unknown> }> {
    const base = this.endpoint.baseUrl.endsWith('/') ? this.endpoint.baseUrl : `${this.endpoint.baseUrl}/`;
    let res: Response;
    try {
      res = await fetch(new URL(`${REDEEMER_OPS_ROUTES.prefix}/${route}`, base), {
        method: 'POST',
        headers: { authorization: `Bearer ${this.endpoint.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown } }).cause;
      const transport = typeof cause?.code === 'string' ? cause.code : (err as Error).name;
      throw new RedeemerOpsCallError(
        'unavailable',
        `the Redeemer did not answer: ${transport}`,
        { transport },
        {
          cause: err,
        },
      );
    }
    const parsed = objectOf(await res.json().catch(() => undefined));
    if (res.ok) return { status: res.status, parsed };
    const code = typeof parsed.code === 'string' ? parsed.code : undefined;
    const message = typeof parsed.message === 'string' ? parsed.message : `HTTP ${res.status}`;
    throw new RedeemerOpsCallError(
      'refused',
      `the Redeemer refused: ${code ?? `HTTP ${res.status}`}: ${message}`,
      {
        status: res.status,
        code,
        refusal: message,
      },
    );
  }
}

function unexpected(status: number): RedeemerOpsCallError {
  return new RedeemerOpsCallError('unexpected', `unexpected answer from the Redeemer (HTTP ${status})`, {
    status,
  });
}

function objectOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
