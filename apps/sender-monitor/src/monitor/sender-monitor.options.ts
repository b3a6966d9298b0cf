/** The SenderMonitor's own settings (from SenderMonitorConfig). */
export interface SenderMonitorOptions {
  /** Recipients served, lowercase; the first answers net.TicketRedeemer's sender-only requests. */
  recipients: readonly string[];
  /** A sender not asked about for this long, and without subscribers, is forgotten. */
  senderTtlMs: number;
  cleanupIntervalMs: number;
  /** How often the pending face value of watched senders is re-read (the chain poll interval). */
  pendingRefreshMs: number;
  /** DATABASE_URL: the connection that listens for new winners (NewWinnersListener) opens it too. */
  databaseUrl: string;
}

export const SENDER_MONITOR_OPTIONS = Symbol('SENDER_MONITOR_OPTIONS');
