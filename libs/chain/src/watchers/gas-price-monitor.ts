import { WatcherError, WatcherErrorCode } from './watcher.error.js';

export interface GasPriceBounds {
  /** Floor (go-livepeer `-minGasPrice`): 1 gwei on L1 mainnet, 0 on Arbitrum. */
  minGasPrice: bigint;
  /** Ceiling (go-livepeer `-maxGasPrice`); 0 disables it. */
  maxGasPrice: bigint;
}

/**
 * The last polled `eth_gasPrice`, bounded as go-livepeer's GasPriceMonitor (PROTOCOL.md §8.5):
 * `gasPrice()` never goes below the floor, and `suggest()`, for spending decisions, refuses to
 * answer while the price is above the ceiling.
 */
export class GasPriceMonitor {
  private polled?: bigint;

  constructor(readonly bounds: GasPriceBounds) {
    if (bounds.minGasPrice < 0n || bounds.maxGasPrice < 0n) throw new Error('gas price bounds must be ≥ 0');
    if (bounds.maxGasPrice > 0n && bounds.minGasPrice > bounds.maxGasPrice) {
      throw new Error('the minimum gas price exceeds the maximum');
    }
  }

  /** Records a polled price; returns whether the bounded price changed. */
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
    const { minGasPrice } = this.bounds;
    return this.polled === undefined || this.polled < minGasPrice ? minGasPrice : this.polled;
  }

  /** Whether the ceiling (if any) is currently exceeded. */
  aboveMax(): boolean {
    return this.bounds.maxGasPrice > 0n && this.gasPrice() > this.bounds.maxGasPrice;
  }

  /** go-livepeer `SuggestGasPrice`: the price, or GAS_PRICE_TOO_HIGH (retryable) above the ceiling. */
  suggest(): bigint {
    const price = this.gasPrice();
    if (this.aboveMax()) {
      throw new WatcherError(
        WatcherErrorCode.GAS_PRICE_TOO_HIGH,
        `current gas price exceeds maximum gas price max=${this.bounds.maxGasPrice} wei current=${price} wei`,
      );
    }
    return price;
  }
}
