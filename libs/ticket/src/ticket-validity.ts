/**
 * How long a winning ticket stays redeemable, in rounds: the TicketBroker accepts it while
 * `creationRound + ticketValidityPeriod > currentRound` (TICKETBROKER §4.4), i.e. up to and in this
 * round. The period is the contract's setting (an admin may change it), so callers pass the value
 * they read. The one statement of the window: every other rule here derives from it.
 */
export function lastValidRound(creationRound: bigint, ticketValidityPeriod: bigint): bigint {
  return creationRound + ticketValidityPeriod - 1n;
}

/** Whether the TicketBroker refuses the ticket as expired in `currentRound` (past lastValidRound). */
export function ticketValidityExpired(
  creationRound: bigint,
  ticketValidityPeriod: bigint,
  currentRound: bigint,
): boolean {
  return currentRound > lastValidRound(creationRound, ticketValidityPeriod);
}

/**
 * Whether `currentRound` is the last one in which the ticket can be redeemed: the next round
 * expires it. A redemption held back then (funds short of the face value, gas dear) is lost.
 */
export function inLastValidRound(
  creationRound: bigint,
  ticketValidityPeriod: bigint,
  currentRound: bigint,
): boolean {
  return currentRound === lastValidRound(creationRound, ticketValidityPeriod);
}

/**
 * The creation round of the tickets in their last valid round at `currentRound` (inLastValidRound
 * holds for exactly that one), or undefined when no round is that old.
 */
export function lastValidCreationRound(
  ticketValidityPeriod: bigint,
  currentRound: bigint,
): bigint | undefined {
  // lastValidRound(round, period) === currentRound, solved for round.
  const round = currentRound + 1n - ticketValidityPeriod;
  return round >= 0n ? round : undefined;
}
