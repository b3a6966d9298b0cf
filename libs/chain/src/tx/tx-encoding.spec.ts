import { Transaction, Wallet, hexlify, randomBytes } from 'ethers';
import { describe, expect, it } from 'vitest';
import type { FeeQuote } from './fees.js';
import { signTx } from './tx-encoding.js';

describe('signTx', () => {
  const wallet = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
  const to = '0x00000000000000000000000000000000000000aa';
  const type2: FeeQuote = { type: 2, maxFeePerGas: 3_000_000_000n, maxPriorityFeePerGas: 1n };
  const legacy: FeeQuote = { type: 0, gasPrice: 2_000_000_000n };

  const ethersSigned = (
    fees: FeeQuote,
    chainId: bigint,
    nonce: bigint,
    data: string,
    value: bigint,
    gasLimit: bigint,
  ) =>
    wallet.signTransaction({
      to,
      data,
      value,
      gasLimit,
      chainId,
      nonce: Number(nonce),
      ...(fees.type === 2
        ? { type: 2, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas }
        : { type: 0, gasPrice: fees.gasPrice }),
    });

  it('signs exactly as ethers does, type 2 and legacy, small and batch-sized calldata, edge quantities', async () => {
    const cases: [FeeQuote, bigint, bigint, string, bigint, bigint][] = [
      [type2, 42161n, 0n, '0x', 0n, 21_000n],
      [type2, 1337n, 7n, hexlify(randomBytes(1)), 1n, 300_000n],
      [type2, 31337n, 1_000n, hexlify(randomBytes(55)), 10n ** 18n, 4_000_000n],
      [type2, 42161n, 2n ** 40n, hexlify(randomBytes(16 * 700)), 0n, 8_000_000n],
      [legacy, 1337n, 0n, '0x00', 0n, 21_000n],
      [legacy, 42161n, 99n, hexlify(randomBytes(16 * 700)), 5n, 8_000_000n],
      [{ type: 0, gasPrice: 0n }, 1n, 127n, '0x7f', 0n, 60_000n],
    ];
    for (const [fees, chainId, nonce, data, value, gasLimit] of cases) {
      const mine = signTx(wallet.signingKey, { chainId, nonce, to, data, value, gasLimit, fees });
      const theirs = await ethersSigned(fees, chainId, nonce, data, value, gasLimit);
      expect(mine.raw).toBe(theirs);
      expect(mine.hash).toBe(Transaction.from(theirs).hash);
      expect(Transaction.from(mine.raw).from).toBe(wallet.address);
    }
  });

  it('refuses calldata or an address that is not 0x hex of the right size', () => {
    const base = { chainId: 1n, nonce: 0n, to, data: '0x', value: 0n, gasLimit: 21_000n, fees: type2 };
    expect(() => signTx(wallet.signingKey, { ...base, data: '0xzz' })).toThrow(/data is not 0x hex/);
    expect(() => signTx(wallet.signingKey, { ...base, data: 'abcd' })).toThrow(/data is not 0x hex/);
    expect(() => signTx(wallet.signingKey, { ...base, data: '0xabc' })).toThrow(/data is not 0x hex/);
    expect(() => signTx(wallet.signingKey, { ...base, to: '0x1234' })).toThrow(/20-byte/);
  });
});
