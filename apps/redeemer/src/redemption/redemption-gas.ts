import { Injectable } from '@nestjs/common';

/**
 * Gas given to each ticket in a tx, over the gas one redemption was estimated to need: a ticket
 * may take a costlier path in its tx than in the simulation that judged it. The costliest is a
 * ticket paid from the reserve (the sender's deposit spent by the tickets before it, by its own
 * txs in flight, or by another recipient's redemption meanwhile), on the first claim of a round:
 * measured here at 1.5× a deposit-paid ticket's estimate (180k gas used vs 120k). Doubling covers
 * it. Unused gas is not paid for; it only makes a tx ask for more of the block.
 */
export const GAS_HEADROOM_PERCENT = 100n;
/**
 * A ticket is checked by one eth_call with the learned figure plus this much; one that needs more
 * is estimated on its own, and raises the figure. Small, so the doubling above stays a margin.
 */
const CHECK_HEADROOM_PERCENT = 10n;
/**
 * How long a learned figure is used before a group is estimated afresh: an L2's gas figure moves
 * with its L1 data price (Arbitrum's estimates include it), and a new round starts with cold state.
 */
export const GAS_FIGURE_TTL_MS = 60_000;

/** What a ticket's tx gas limit is built from: the estimate plus the headroom above. */
export const gasAllowance = (gas: bigint): bigint => (gas * (100n + GAS_HEADROOM_PERCENT)) / 100n;

/**
 * The gas limit of the Redeemer's other txs (initializeRound, withdrawFees) over their simulated
 * gas: their path does not depend on other txs in flight, so a quarter covers state moved between
 * the simulation and the block.
 */
export const simulatedTxGasLimit = (gas: bigint): bigint => (gas * 125n) / 100n;

/** The gas limit of the eth_call that checks a ticket against a learned figure. */
export const checkLimit = (gas: bigint): bigint => (gas * (100n + CHECK_HEADROOM_PERCENT)) / 100n;

interface Figure {
  gas: bigint;
  round: bigint;
  at: number;
}

/**
 * The gas one `redeemWinningTicket` needs, learned per recipient from eth_estimateGas and reused:
 * estimating every ticket (a binary search of EVM runs each) was most of what the Redeemer asked
 * of the node. A group is estimated ticket by ticket when no figure is known, in a new round, or
 * after GAS_FIGURE_TTL_MS, and its largest estimate becomes the figure; in between each ticket is
 * judged by one eth_call with checkLimit(figure) gas (the revert reason decides a doomed ticket as
 * before), and any ticket that does not complete within it is estimated and raises the figure.
 * Every ticket thus fits its allowance on the path it took when checked, with the headroom for a
 * costlier one; a batch item that failed anyway drops the figure (forget) so the next group is
 * estimated again. Plain eth_call and eth_estimateGas only: any geth-compatible node (nitro) serves them.
 */
@Injectable()
export class RedemptionGas {
  private readonly figures = new Map<string, Figure>();

  /** The figure for `recipient` in `round`, or undefined when the group must be estimated. */
  expected(recipient: string, round: bigint, now = Date.now()): bigint | undefined {
    const f = this.figures.get(recipient);
    return f && current(f, round, now) ? f.gas : undefined;
  }

  /** Records estimates: their largest replaces a stale figure, and only raises a current one. */
  learn(recipient: string, round: bigint, gas: readonly bigint[], now = Date.now()): void {
    if (gas.length === 0) return;
    const max = gas.reduce((a, b) => (b > a ? b : a));
    const f = this.figures.get(recipient);
    if (!f || !current(f, round, now)) this.figures.set(recipient, { gas: max, round, at: now });
    else if (max > f.gas) f.gas = max;
  }

  /** Drops the figure of `recipient` (a batch item failed): its next group is estimated. */
  forget(recipient: string): void {
    this.figures.delete(recipient);
  }
}

const current = (f: Figure, round: bigint, now: number): boolean =>
  f.round === round && now - f.at <= GAS_FIGURE_TTL_MS;
