import { Injectable } from '@nestjs/common';
import {
  RedeemerErrorCode,
  RedeemerOpsCallError,
  RedeemerOpsHttpClient,
  type RedeemerJobAction,
} from '#app/clients';
import { OpsConfig } from '../ops.config.js';
import { OpsError, OpsErrorCode } from '../ops.error.js';

const REQUEST_TIMEOUT_MS = 30_000;

/** The Redeemer's codes the ops API passes on as its own; the rest become REDEEMER_REFUSED. */
const PASSED_ON: Partial<Record<string, OpsErrorCode>> = {
  [RedeemerErrorCode.TICKET_NOT_FOUND]: OpsErrorCode.TICKET_NOT_FOUND,
  [RedeemerErrorCode.TICKET_FINAL]: OpsErrorCode.TICKET_FINAL,
  [RedeemerErrorCode.NOT_ACTIVE]: OpsErrorCode.REDEEMER_UNAVAILABLE,
};

/**
 * Redeem-now through the Redeemer's operator API (StartClaim): the Redeemer owns on-chain
 * redemption, the ops API only asks it. Neither its URL nor its token is ever returned or logged.
 */
@Injectable()
export class RedeemerOpsClient {
  constructor(private readonly config: OpsConfig) {}

  get configured(): boolean {
    return this.config.values.REDEEMER_URL !== undefined;
  }

  async redeemNow(ticketHash: string, ignoreGasLimits: boolean): Promise<{ job: RedeemerJobAction }> {
    const { REDEEMER_URL: baseUrl, REDEEMER_OPS_TOKEN: token } = this.config.values;
    if (!baseUrl || !token) {
      throw new OpsError(
        OpsErrorCode.REDEEMER_NOT_CONFIGURED,
        'REDEEMER_URL is not configured: redemption cannot be started',
      );
    }
    try {
      return await new RedeemerOpsHttpClient({ baseUrl, token }, REQUEST_TIMEOUT_MS).redeemNow(
        ticketHash,
        ignoreGasLimits,
      );
    } catch (err) {
      if (!(err instanceof RedeemerOpsCallError)) throw err;
      if (err.reason === 'unavailable') {
        throw new OpsError(OpsErrorCode.REDEEMER_UNAVAILABLE, 'the Redeemer did not answer', { cause: err });
      }
      const passedOn = err.details.code === undefined ? undefined : PASSED_ON[err.details.code];
      if (passedOn) throw new OpsError(passedOn, err.details.refusal ?? err.message);
      throw new OpsError(OpsErrorCode.REDEEMER_REFUSED, err.message);
    }
  }
}
