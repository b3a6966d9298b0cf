import { CliError, CliErrorCode } from './cli.error.js';

export interface RedeemerOpsEndpoint {
  /** e.g. http://127.0.0.1:8933 (the Redeemer's HTTP port). */
  baseUrl: string;
  token: string;
}

/** What the Redeemer did to the ticket's job (its `RedeemNowResult.job`). */
export type RedeemerJobAction = 'promoted' | 'enqueued' | 'unchanged';

export type RedeemNowReply = { final: false; job: RedeemerJobAction } | { final: true };

export interface FeeWithdrawal {
  txHash: string;
  amount: bigint;
  to: string;
}

const REQUEST_TIMEOUT_MS = 120_000;
const JOB_ACTIONS: readonly string[] = ['promoted', 'enqueued', 'unchanged'];

interface OpsAnswer {
  ok: boolean;
  status: number;
  /** The Redeemer's error code (`{domain, code, message}` bodies), when it refused. */
  code?: string;
  body: Record<string, unknown>;
}

/** One authenticated call to the Redeemer's /ops API. Neither the URL nor the token appears in an error. */
async function callOps(endpoint: RedeemerOpsEndpoint, path: string, body: unknown): Promise<OpsAnswer> {
  let res: Response;
  try {
    const base = endpoint.baseUrl.endsWith('/') ? endpoint.baseUrl : `${endpoint.baseUrl}/`;
    res = await fetch(new URL(path, base), {
      method: 'POST',
      headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown } }).cause;
    throw new CliError(
      CliErrorCode.REDEEMER_UNAVAILABLE,
      `the Redeemer's ops endpoint (REDEEMER_URL or --redeemer-url) did not answer: ${
        typeof cause?.code === 'string' ? cause.code : (err as Error).name
      }`,
      { cause: err },
    );
  }
  const parsed = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok && parsed.code === 'UNAUTHORIZED') {
    throw new CliError(
      CliErrorCode.REDEEMER_REFUSED,
      "the Redeemer refused the ops token: set REDEEMER_OPS_TOKEN to the Redeemer's token",
    );
  }
  return {
    ok: res.ok,
    status: res.status,
    code: typeof parsed.code === 'string' ? parsed.code : undefined,
    body: parsed,
  };
}

function refused(answer: OpsAnswer): CliError {
  const message = typeof answer.body.message === 'string' ? `: ${answer.body.message}` : '';
  return new CliError(
    CliErrorCode.REDEEMER_REFUSED,
    `the Redeemer refused: ${answer.code ?? `HTTP ${answer.status}`}${message}`,
  );
}

/**
 * `POST /ops/tickets/:hash/redeem`: the Redeemer itself makes the ticket due now (and, with
 * `ignoreGasLimits`, lets it pass its gas price / cost limits once). A ticket the Redeemer reports
 * final comes back as `{final: true}`: the caller reads its outcome.
 */
export async function requestRedeemNow(
  endpoint: RedeemerOpsEndpoint,
  ticketHash: string,
  ignoreGasLimits: boolean,
): Promise<RedeemNowReply> {
  const answer = await callOps(
    endpoint,
    `ops/tickets/${ticketHash}/redeem`,
    ignoreGasLimits ? { ignoreGasLimits: true } : {},
  );
  if (answer.ok) {
    const job = answer.body.job;
    if (typeof job !== 'string' || !JOB_ACTIONS.includes(job)) {
      throw new CliError(
        CliErrorCode.REDEEMER_REFUSED,
        `unexpected answer from the Redeemer (HTTP ${answer.status})`,
      );
    }
    return { final: false, job: job as RedeemerJobAction };
  }
  if (answer.code === 'TICKET_FINAL') return { final: true };
  if (answer.code === 'TICKET_NOT_FOUND') {
    throw new CliError(CliErrorCode.NOT_FOUND, `the Redeemer has no winning ticket ${ticketHash}`);
  }
  throw refused(answer);
}

/**
 * `POST /ops/fees/withdraw`: the Redeemer withdraws its signer's fees through its own transaction
 * manager, so its nonces stay its own. Resolves undefined when there are no fees to withdraw.
 */
export async function requestFeeWithdrawal(
  endpoint: RedeemerOpsEndpoint,
  request: { amount?: bigint; to?: string },
): Promise<FeeWithdrawal | undefined> {
  const answer = await callOps(endpoint, 'ops/fees/withdraw', {
    ...(request.amount === undefined ? {} : { amount: request.amount.toString() }),
    ...(request.to === undefined ? {} : { to: request.to }),
  });
  if (answer.ok) {
    const { txHash, amount, to } = answer.body;
    if (
      typeof txHash !== 'string' ||
      typeof amount !== 'string' ||
      !/^\d+$/.test(amount) ||
      typeof to !== 'string'
    ) {
      throw new CliError(
        CliErrorCode.REDEEMER_REFUSED,
        `unexpected answer from the Redeemer (HTTP ${answer.status})`,
      );
    }
    return { txHash, amount: BigInt(amount), to };
  }
  if (answer.code === 'NO_FEES' && request.amount === undefined) return undefined;
  throw refused(answer);
}
