import type { DataSource } from 'typeorm';
import type { RedeemerOpsEndpoint } from '#app/clients';
import type { WinningTicketEntity, WinningTicketStatus } from '#app/database';
import { CliError, CliErrorCode } from './cli.error.js';
import type { Progress } from './progress.js';
import { requestRedeemNow } from './redeemer-ops.js';
import type { RedemptionQueueHandle } from '#app/queue';

const POLL_MS = 500;

export interface RedeemRequest {
  ticketHash: string;
  /** The Redeemer's ops endpoint; without it the CLI moves the BullMQ job itself. */
  ops?: RedeemerOpsEndpoint;
  ignoreGasLimits: boolean;
  /** Follow the row until it is final (else return once the ticket is due). */
  wait: boolean;
  timeoutMs: number;
}

export interface RedeemOutcome {
  ticketHash: string;
  via: 'redeemer-ops' | 'queue';
  /** What was done to the job (`none` when the ticket was final already). */
  action: string;
  status: WinningTicketStatus;
  redeemed: boolean;
  statusReason: string | null;
  txHash: string | null;
  waitedMs: number;
}

export interface RedemptionDeps {
  ds: DataSource;
  queue: () => Promise<RedemptionQueueHandle>;
  progress: Progress;
}

/**
 * `tickets redeem`: makes a stored winning ticket due now and follows its row until the Redeemer
 * has redeemed it, it ended failed/expired, or the wait timed out. Never sends a transaction: the
 * Redeemer's state machine stays the only writer of redemption outcomes.
 */
export async function redeemTicket(deps: RedemptionDeps, request: RedeemRequest): Promise<RedeemOutcome> {
  const { FINAL_STATUSES, UNPAID_FINAL_STATUSES, WinningTicketRepository, WinningTicketStatus } =
    await import('#app/database');
  const { ticketHash, ops } = request;
  const repo = new WinningTicketRepository(deps.ds);
  const read = () => repo.findByHash(ticketHash);
  const via = ops ? 'redeemer-ops' : 'queue';

  const outcome = (t: WinningTicketEntity, action: string, waitedMs: number): RedeemOutcome => {
    if (UNPAID_FINAL_STATUSES.includes(t.status)) {
      throw new CliError(
        CliErrorCode.NOT_REDEEMED,
        `ticket ${ticketHash} is ${t.status}${t.statusReason ? `: ${t.statusReason}` : ''}`,
      );
    }
    return {
      ticketHash,
      via,
      action,
      status: t.status,
      redeemed: t.status === WinningTicketStatus.REDEEMED,
      statusReason: t.statusReason,
      txHash: t.txHash,
      waitedMs,
    };
  };

  const ticket = await read();
  if (!ticket) throw new CliError(CliErrorCode.NOT_FOUND, `no winning ticket ${ticketHash} in the database`);
  if (FINAL_STATUSES.includes(ticket.status)) return outcome(ticket, 'none', 0);

  let action: string;
  if (ops) {
    const reply = await requestRedeemNow(ops, ticketHash, request.ignoreGasLimits);
    action = reply.final ? 'none' : reply.job; // final by the time the Redeemer looked
  } else {
    // The Redeemer's own redeem-now, without its ops API (libs/queue): the job is only moved forward
    // in BullMQ (and the row marked queued); the Redeemer's worker does the rest.
    const { ticketHash: hash, sender, creationRound, status } = ticket;
    action = await (await deps.queue()).queue.redeemNow({ ticketHash: hash, sender, creationRound, status });
  }
  if (!request.wait) return outcome((await read()) ?? ticket, action, 0);

  const started = Date.now();
  for (;;) {
    const current = (await read()) ?? ticket;
    const waited = Date.now() - started;
    const state = `${current.status}${current.statusReason ? ` (${current.statusReason})` : ''}`;
    if (FINAL_STATUSES.includes(current.status)) {
      deps.progress.end(`redemption ${current.status}`);
      return outcome(current, action, waited);
    }
    if (waited >= request.timeoutMs) {
      throw new CliError(
        CliErrorCode.TIMEOUT,
        `ticket ${ticketHash} is still ${state} after ${Math.round(waited / 1000)} s; ` +
          'its job stays due and the Redeemer keeps going (is the Redeemer running?)',
      );
    }
    deps.progress.status(`waiting for the Redeemer: ticket ${state}`, `${Math.round(waited / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
