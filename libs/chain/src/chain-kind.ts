/**
 * What kind of chain the contracts run on, told by its blocks alone: an Arbitrum rollup's carry
 * `l1BlockNumber` (the L1 block Livepeer's contracts there count rounds and expiry in), others do
 * not. The one reading of it: the L1 block source (l1BlockOf) and the redemption gas face values
 * assume (defaultRedeemGas) both follow it, so the two never disagree about a chain.
 */
export type ChainKind = 'arbitrum' | 'l1';

export function chainKindOf(raw: { l1BlockNumber?: unknown }): ChainKind {
  return typeof raw.l1BlockNumber === 'string' ? 'arbitrum' : 'l1';
}
