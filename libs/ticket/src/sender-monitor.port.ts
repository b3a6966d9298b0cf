/**
 * What a recipient needs to know about a sender before accepting its tickets (§8): how much
 * face value it can still safely accept (max float) and whether the sender is usable at all.
 * A port: the SenderMonitor service implements it (and serves it over gRPC); a client of that
 * service, or a direct reading of the chain, implements it in the Recipient.
 * Addresses are 0x-prefixed hex strings (any case).
 */
export abstract class SenderMonitor {
  /**
   * Max float of `sender` for `recipient` in wei: its reserve allocation for the recipient
   * minus the face value of its tickets pending redemption (§8.1). May be negative.
   */
  abstract maxFloat(sender: string, recipient: string): Promise<bigint>;

  /** Resolves when the sender may be paid from; throws a TicketError (e.g. SENDER_UNLOCKING) otherwise (§8.3). */
  abstract validateSender(sender: string): Promise<void>;
}
