import { Injectable } from '@nestjs/common';
import { OpsConfig } from '../ops.config.js';
import { OpsError, OpsErrorCode } from '../ops.error.js';

const REQUEST_TIMEOUT_MS = 30_000;
const JOB_ACTIONS = ['promoted', 'enqueued', 'unchanged'] as const;

export type RedeemJobAction = (typeof JOB_ACTIONS)[number];

/** The Redeemer's codes the ops API passes on as its own; the rest become REDEEMER_REFUSED. */
const PASSED_ON: Record<string, OpsErrorCode> = {
  TICKET_NOT_FOUND: OpsErrorCode.TICKET_NOT_FOUND,
  TICKET_FINAL: OpsErrorCode.TICKET_FINAL,
  NOT_ACTIVE: OpsErrorCode.REDEEMER_UNAVAILABLE,
};

/**
 * The Redeemer's operator endpoint `POST /ops/tickets/:hash/redeem` (StartClaim): the Redeemer
 * owns on-chain redemption, the ops API only asks it. Neither its URL nor its token is ever
 * returned or logged.
 */
@Injectable()
export class RedeemerOpsClient {
  constructor(private readonly config: OpsConfig) {}

  get configured(): boolean {
    return this.config.values.REDEEMER_URL !== undefined;
  }

  async redeemNow(ticketHash: string, ignoreGasLimits: boolean): Promise<{ job: RedeemJobAction }> {
    const { REDEEMER_URL: base, REDEEMER_OPS_TOKEN: token } = this.config.values;
    if (!base || !token) {
      throw new OpsError(
        OpsErrorCode.REDEEMER_NOT_CONFIGURED,
        'REDEEMER_URL is not configured: redemption cannot be started',
      );
    }
    let res: Response;
    try {
      res = await fetch(new URL(`ops/tickets/${ticketHash}/redeem`, base.endsWith('/') ? base : `${base}/`), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(ignoreGasLimits ? { ignoreGasLimits: true } : {}),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new OpsError(OpsErrorCode.REDEEMER_UNAVAILABLE, 'the Redeemer did not answer', { cause: err });
    }
    const body = (await res.json().catch(() => ({}))) as { code?: unknown; message?: unknown; job?: unknown };
    if (res.ok) {
      if (typeof body.job === 'string' && (JOB_ACTIONS as readonly string[]).includes(body.job)) {
        return { job: body.job as RedeemJobAction };
      }
      throw new OpsError(
        OpsErrorCode.REDEEMER_REFUSED,
        `unexpected answer from the Redeemer (HTTP ${res.status})`,
      );
    }
    const code = typeof body.code === 'string' ? body.code : undefined;
    const message = typeof body.message === 'string' ? body.message : `HTTP ${res.status}`;
    if (code && PASSED_ON[code]) throw new OpsError(PASSED_ON[code], message);
    throw new OpsError(
      OpsErrorCode.REDEEMER_REFUSED,
      `the Redeemer refused: ${code ?? `HTTP ${res.status}`}: ${message}`,
    );
  }
}
