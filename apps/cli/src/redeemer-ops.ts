import {
  RedeemerErrorCode,
  RedeemerOpsCallError,
  RedeemerOpsHttpClient,
  type RedeemerFeeWithdrawal,
  type RedeemerJobAction,
  type RedeemerOpsEndpoint,
} from '#app/clients';
import { CliError, CliErrorCode } from './cli.error.js';

export type RedeemNowReply = { final: false; job: RedeemerJobAction } | { final: true };

/** A fee withdrawal waits for its tx to be mined: a long timeout. */
const REQUEST_TIMEOUT_MS = 120_000;

/**
 * `redeem-now` through the Redeemer, which makes the ticket due now (and, with `ignoreGasLimits`,
 * lets it pass its gas price / cost limits once). A ticket the Redeemer reports final comes back
 * as `{final: true}`: the caller reads its outcome.
 */
export async function requestRedeemNow(
  endpoint: RedeemerOpsEndpoint,
  ticketHash: string,
  ignoreGasLimits: boolean,
): Promise<RedeemNowReply> {
  try {
    const { job } = await new RedeemerOpsHttpClient(endpoint, REQUEST_TIMEOUT_MS).redeemNow(
      ticketHash,
      ignoreGasLimits,
    );
    return { final: false, job };
  } catch (err) {
    if (err instanceof RedeemerOpsCallError && err.is(RedeemerErrorCode.TICKET_FINAL)) return { final: true };
    if (err instanceof RedeemerOpsCallError && err.is(RedeemerErrorCode.TICKET_NOT_FOUND)) {
      throw new CliError(CliErrorCode.NOT_FOUND, `the Redeemer has no winning ticket ${ticketHash}`);
    }
    throw cliError(err);
  }
}

/**
 * Fee withdrawal through the Redeemer's own transaction manager, so its nonces stay its own.
 * Resolves undefined when all fees were asked for and there are none.
 */
export async function requestFeeWithdrawal(
  endpoint: RedeemerOpsEndpoint,
  request: { amount?: bigint; to?: string },
): Promise<RedeemerFeeWithdrawal | undefined> {
  try {
    return await new RedeemerOpsHttpClient(endpoint, REQUEST_TIMEOUT_MS).withdrawFees(request);
  } catch (err) {
    if (
      err instanceof RedeemerOpsCallError &&
      err.is(RedeemerErrorCode.NO_FEES) &&
      request.amount === undefined
    ) {
      return undefined;
    }
    throw cliError(err);
  }
}

function cliError(err: unknown): unknown {
  if (!(err instanceof RedeemerOpsCallError)) return err;
  if (err.reason === 'unavailable') {
    return new CliError(
      CliErrorCode.REDEEMER_UNAVAILABLE,
      `the Redeemer's ops endpoint (REDEEMER_URL or --redeemer-url) did not answer: ${err.details.transport}`,
      { cause: err },
    );
  }
  if (err.is(RedeemerErrorCode.UNAUTHORIZED)) {
    return new CliError(
      CliErrorCode.REDEEMER_REFUSED,
      "the Redeemer refused the ops token: set REDEEMER_OPS_TOKEN to the Redeemer's token",
    );
  }
  return new CliError(CliErrorCode.REDEEMER_REFUSED, err.message);
}
