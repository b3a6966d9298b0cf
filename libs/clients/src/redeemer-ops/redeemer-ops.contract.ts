/**
 * The Redeemer's operator API (`/ops` on its HTTP port), as one contract: the Redeemer serves it,
 * the ops API and the CLI call it. Amounts are decimal wei strings on the wire.
 */

/** What redeem-now did to the ticket's job: promoted out of its delay, re-created, or left running. */
export const REDEEMER_JOB_ACTIONS = ['promoted', 'enqueued', 'unchanged'] as const;
export type RedeemerJobAction = (typeof REDEEMER_JOB_ACTIONS)[number];

/** The routes, as the Redeemer's controller mounts them (under `prefix`) and its clients call them. */
export const REDEEMER_OPS_ROUTES = {
  prefix: 'ops',
  redeemNow: 'tickets/:ticketHash/redeem',
  withdrawFees: 'fees/withdraw',
  status: 'status',
} as const;

/** `POST ops/tickets/:hash/redeem` body. */
export interface RedeemNowBody {
  /** Let the ticket pass the gas price / cost limits once. */
  ignoreGasLimits?: boolean;
}

/** `POST ops/fees/withdraw` body; default: all fees, to the signer. */
export interface WithdrawFeesBody {
  amount?: string;
  to?: string;
}

/** `POST ops/fees/withdraw` answer. */
export interface WithdrawFeesAnswer {
  txHash: string;
  status: string;
  amount: string;
  to: string;
}

export function isRedeemerJobAction(value: unknown): value is RedeemerJobAction {
  return typeof value === 'string' && (REDEEMER_JOB_ACTIONS as readonly string[]).includes(value);
}
