import type { Provider } from 'ethers';
import type { TxFees } from './tx-store.port.js';

/** Fee fields for one signing: EIP-1559 when the chain has a base fee, legacy otherwise. */
export type FeeQuote =
  { type: 2; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { type: 0; gasPrice: bigint };

/** Geth refuses a same-nonce replacement unless both fee fields rise by at least 10%. */
export const MIN_REPLACEMENT_BUMP_PERCENT = 10;

/**
 * Fees for a new tx: maxFee = 2 × baseFee + tip (ethers' rule, enough for six full blocks of
 * base-fee growth), capped at `maxGasPrice` when that is non-zero.
 */
export async function quoteFees(provider: Provider, maxGasPrice: bigint): Promise<FeeQuote> {
  const data = await provider.getFeeData();
  if (data.maxFeePerGas !== null && data.maxPriorityFeePerGas !== null) {
    let maxFee = data.maxFeePerGas;
    if (maxGasPrice > 0n && maxFee > maxGasPrice) maxFee = maxGasPrice;
    const tip = data.maxPriorityFeePerGas < maxFee ? data.maxPriorityFeePerGas : maxFee;
    return { type: 2, maxFeePerGas: maxFee, maxPriorityFeePerGas: tip };
  }
  let gasPrice = data.gasPrice ?? 0n;
  if (maxGasPrice > 0n && gasPrice > maxGasPrice) gasPrice = maxGasPrice;
  return { type: 0, gasPrice };
}

/**
 * Fees for replacing a stuck tx at the same nonce: each field raised by `bumpPercent` (rounded up)
 * or to the current market quote, whichever is higher, then capped. Returns null when the cap
 * leaves no room for a replacement the node would accept (a rise of at least 10%).
 */
export function bumpFees(
  previous: FeeQuote,
  market: FeeQuote,
  bumpPercent: number,
  maxGasPrice: bigint,
): FeeQuote | null {
  const pct = BigInt(Math.max(bumpPercent, MIN_REPLACEMENT_BUMP_PERCENT));
  const raise = (x: bigint) => (x * (100n + pct) + 99n) / 100n;
  const minimum = (x: bigint) => (x * BigInt(100 + MIN_REPLACEMENT_BUMP_PERCENT) + 99n) / 100n;
  const cap = (x: bigint) => (maxGasPrice > 0n && x > maxGasPrice ? maxGasPrice : x);
  const max = (a: bigint, b: bigint) => (a > b ? a : b);

  if (previous.type === 2) {
    const marketFee = market.type === 2 ? market.maxFeePerGas : market.gasPrice;
    const marketTip = market.type === 2 ? market.maxPriorityFeePerGas : 0n;
    const maxFee = cap(max(raise(previous.maxFeePerGas), marketFee));
    let tip = max(raise(previous.maxPriorityFeePerGas), marketTip);
    if (tip > maxFee) tip = maxFee;
    if (maxFee < minimum(previous.maxFeePerGas) || tip < minimum(previous.maxPriorityFeePerGas)) return null;
    return { type: 2, maxFeePerGas: maxFee, maxPriorityFeePerGas: tip };
  }
  const marketPrice = market.type === 0 ? market.gasPrice : market.maxFeePerGas;
  const gasPrice = cap(max(raise(previous.gasPrice), marketPrice));
  if (gasPrice < minimum(previous.gasPrice)) return null;
  return { type: 0, gasPrice };
}

export function feeFields(quote: FeeQuote): TxFees {
  return quote.type === 2
    ? { maxFeePerGas: quote.maxFeePerGas, maxPriorityFeePerGas: quote.maxPriorityFeePerGas, gasPrice: null }
    : { maxFeePerGas: null, maxPriorityFeePerGas: null, gasPrice: quote.gasPrice };
}

export function quoteOf(fees: TxFees): FeeQuote {
  if (fees.maxFeePerGas !== null && fees.maxPriorityFeePerGas !== null) {
    return { type: 2, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas };
  }
  return { type: 0, gasPrice: fees.gasPrice ?? 0n };
}

/** The most one unit of gas can cost under these fees. */
export function maxPricePerGas(quote: FeeQuote): bigint {
  return quote.type === 2 ? quote.maxFeePerGas : quote.gasPrice;
}
