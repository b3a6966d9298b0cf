import { describe, expect, it } from 'vitest';
import { CliError, CliErrorCode } from './cli.error.js';
import { formatEth, formatEther, parseAmount } from './amount.js';

const ETH = 10n ** 18n;

function parseError(raw: string): CliError {
  try {
    parseAmount(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).code).toBe(CliErrorCode.INVALID_AMOUNT);
    expect((err as CliError).exitCode).toBe(2);
    return err as CliError;
  }
  throw new Error(`"${raw}" was accepted`);
}

describe('parseAmount', () => {
  it('reads ETH, gwei and wei, and a bare integer as wei', () => {
    expect(parseAmount('1.5eth')).toBe(15n * 10n ** 17n);
    expect(parseAmount('1.5ETH')).toBe(15n * 10n ** 17n);
    expect(parseAmount('2ether')).toBe(2n * ETH);
    expect(parseAmount('1 eth')).toBe(ETH);
    expect(parseAmount('1500000000gwei')).toBe(15n * 10n ** 17n);
    expect(parseAmount('0.5gwei')).toBe(500_000_000n);
    expect(parseAmount('42wei')).toBe(42n);
    expect(parseAmount('42')).toBe(42n);
    expect(parseAmount('0')).toBe(0n);
    expect(parseAmount('0.000000000000000001eth')).toBe(1n);
  });

  it('is exact for amounts far beyond a JS number', () => {
    expect(parseAmount('123456789.123456789123456789eth')).toBe(123456789123456789123456789n);
    expect(parseAmount('1.10eth')).toBe(11n * 10n ** 17n);
    const max = (1n << 256n) - 1n;
    expect(parseAmount(max.toString())).toBe(max);
  });

  it('refuses what it cannot read exactly, saying why', () => {
    expect(parseError('1.5').message).toMatch(/without a unit is wei.*did you mean 1.5eth/);
    expect(parseError('0.0000000000000000001eth').message).toMatch(/at most 18 decimals/);
    expect(parseError('1.5wei').message).toMatch(/whole/);
    expect(parseError('0.0000000001gwei').message).toMatch(/at most 9 decimals/);
    expect(parseError('-1eth').message).toMatch(/negative/);
    expect(parseError('1btc').message).toMatch(/unknown unit "btc"/);
    expect(parseError('').message).toMatch(/expected a number/);
    expect(parseError('eth').message).toMatch(/expected a number/);
    expect(parseError('1e18').message).toMatch(/scientific notation/);
    expect(parseError('1,5eth').message).toMatch(/expected a number/);
    expect(parseError('.5eth').message).toMatch(/expected a number/);
    expect(parseError((1n << 256n).toString()).message).toMatch(/uint256/);
  });
});

describe('formatEther', () => {
  it('is exact and drops trailing zeros', () => {
    expect(formatEther(15n * 10n ** 17n)).toBe('1.5');
    expect(formatEther(0n)).toBe('0');
    expect(formatEther(1n)).toBe('0.000000000000000001');
    expect(formatEther(2n * ETH)).toBe('2');
    expect(formatEther(-ETH / 2n)).toBe('-0.5');
    expect(formatEth(ETH)).toBe('1 ETH');
  });

  it('round-trips through parseAmount', () => {
    for (const wei of [0n, 1n, 999n, 10n ** 18n + 1n, 123456789123456789123456789n]) {
      expect(parseAmount(`${formatEther(wei)}eth`)).toBe(wei);
    }
  });
});
