import type { ChainKind } from './chain-kind.js';

/**
 * Gas a ticket's redemption is assumed to cost when face values are priced, by chain, as
 * go-livepeer picks it by network: its L1 figure on Ethereum (and dev chains), its L2 figure on
 * Arbitrum, where a tx's gas also pays for its L1 calldata.
 */
export const REDEEM_GAS_L1 = 350_000n;
export const REDEEM_GAS_ARBITRUM = 1_200_000n;

/** The redemption gas face values assume on a chain of `kind` (see REDEEM_GAS_L1). */
export function defaultRedeemGas(kind: ChainKind): bigint {
  return kind === 'arbitrum' ? REDEEM_GAS_ARBITRUM : REDEEM_GAS_L1;
}
