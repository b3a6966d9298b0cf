import { AppError } from '#app/common';

/** Stable codes of the SenderMonitor service and its client; API and metric labels. */
export enum SenderMonitorErrorCode {
  /** A request field is malformed (address, amount). */
  INVALID_ARGUMENT = 'INVALID_ARGUMENT',
  /** The recipient is not one this monitor serves (go-livepeer: "invalid ticket recipient"). */
  UNKNOWN_RECIPIENT = 'UNKNOWN_RECIPIENT',
  /** The request needs the primary recipient and none is configured. */
  NO_RECIPIENT = 'NO_RECIPIENT',
  /** QueueTicket got a ticket that does not win: it can never be redeemed. */
  TICKET_NOT_WINNING = 'TICKET_NOT_WINNING',
  /** QueueTicket could not store the ticket. */
  STORE_FAILED = 'STORE_FAILED',
  /** The sender's chain state cannot be read right now (RPC down, not synced yet). */
  CHAIN_UNAVAILABLE = 'CHAIN_UNAVAILABLE',
  /** Client side: the service did not answer (down, deadline exceeded). */
  UNAVAILABLE = 'UNAVAILABLE',
  /** Client side: the service answered something this client cannot read. */
  BAD_RESPONSE = 'BAD_RESPONSE',
  /** A stream ended because the service is shutting down. */
  SUBSCRIPTION_CLOSED = 'SUBSCRIPTION_CLOSED',
  /** Anything unexpected; details are logged by the service, never sent. */
  INTERNAL = 'INTERNAL',
}

export class SenderMonitorError extends AppError<SenderMonitorErrorCode> {
  readonly domain = 'sender-monitor';
}
