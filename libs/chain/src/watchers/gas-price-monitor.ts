/**
 * The gas price a service reasons with: the polled `eth_gasPrice`, never below the configured floor
 * (go-livepeer `-minGasPrice`, ETH_MIN_GAS_PRICE: 1 gwei on L1 mainnet, 0 on Arbitrum). Both chain
 * views (RpcChainFacts, ChainWatcher) apply it here. The ceiling (go-livepeer `-maxGasPrice`) is
 * the Redeemer's, the one service that spends gas on redemptions (REDEEMER_MAX_GAS_PRICE).
 */
export function flooredGasPrice(polled: bigint | undefined, minGasPrice: bigint): bigint {
  return polled === undefined || polled < minGasPrice ? minGasPrice : polled;
}

export interface GasPriceBounds {
  minGasPrice: bigint;
}

/** The last polled gas price, floored (PROTOCOL.md §8.5). */
export class GasPriceMonitor {
  private polled?: bigint;

  constructor(readonly bounds: GasPriceBounds) {
    if (bounds.minGasPrice < 0n) throw new Error('the gas price floor must be ≥ 0');
  }

  /** Records a polled price; returns whether the floored price changed. */
  observe(polled: bigint): boolean {
    const before = this.gasPrice();
    this.polled = polled;
    return before !== this.gasPrice();
  }

  /** The raw last poll, if any. */
  lastPolled(): bigint | undefined {
    return this.polled;
  }

  /** max(last poll, floor); the floor before the first poll. */
  gasPrice(): bigint {
    return flooredGasPrice(this.polled, this.bounds.minGasPrice);
  }
}
