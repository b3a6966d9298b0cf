import { RedemptionCode, wait, type Verdict } from './redemption-code.js';

/** The operator's gas limits: REDEEMER_MAX_GAS_PRICE (0 = none) and REDEEMER_MAX_TX_COST_RATIO. */
export interface GasLimits {
  maxGasPrice: bigint;
  maxCostRatio: { num: bigint; den: bigint };
}

/**
 * Why a ticket must wait for cheaper gas, or null: the gas price above the cap, then, once its
 * redemption's gas is known (`gas`, what a simulation said it needs), that gas at this price above
 * faceValue × ratio. In the ticket's last valid round (`lastRound`) waiting loses it, so only a
 * redemption that costs more than the ticket pays waits: the ratio is at least 1 then. The one
 * statement of the rule: the gate checks the price before a ticket is batched, the batcher both
 * after simulating and again after a wait for block space (full blocks raise the price).
 */
export function gasCostWait(
  limits: GasLimits,
  gasPrice: bigint,
  ticket?: { gas: bigint; faceValue: bigint; lastRound: boolean },
): Verdict | null {
  if (limits.maxGasPrice > 0n && gasPrice > limits.maxGasPrice)
    return wait(RedemptionCode.GAS_PRICE_TOO_HIGH);
  if (!ticket) return null;
  const ratio = limits.maxCostRatio;
  const { num, den } = ticket.lastRound && ratio.num < ratio.den ? { num: 1n, den: 1n } : ratio;
  if (ticket.gas * gasPrice * den > ticket.faceValue * num) return wait(RedemptionCode.TX_COST_TOO_HIGH);
  return null;
}
