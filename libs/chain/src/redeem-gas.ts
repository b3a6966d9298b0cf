/**
 * Gas a ticket's redemption is assumed to cost when face values are priced, by chain, as
 * go-livepeer picks it by network: its L1 figure on Ethereum (and dev chains), its L2 figure on
 * Arbitrum, where a tx's gas also pays for its L1 calldata.
 */
export const REDEEM_GAS_L1 = 350_000n;
export const REDEEM_GAS_ARBITRUM = 1_200_000n;

/** Arbitrum One, Nova and the Arbitrum test networks (Rinkeby, Goerli, Sepolia). */
const ARBITRUM_CHAIN_IDS: ReadonlySet<bigint> = new Set([42161n, 42170n, 421611n, 421613n, 421614n]);

/** The redemption gas face values assume on chain `chainId` (see REDEEM_GAS_L1). */
export function defaultRedeemGas(chainId: bigint): bigint {
  return ARBITRUM_CHAIN_IDS.has(chainId) ? REDEEM_GAS_ARBITRUM : REDEEM_GAS_L1;
}
