import { MAX_UINT256 } from '#app/ticket';
import { CliError, CliErrorCode } from './cli.error.js';

/** Decimals of each accepted unit, relative to wei. */
const UNIT_DECIMALS: Readonly<Record<string, number>> = { wei: 0, gwei: 9, eth: 18, ether: 18 };

const WEI_PER_ETH = 10n ** 18n;

const AMOUNT = /^(\d+)(?:\.(\d+))?\s*([a-z]*)$/;

/**
 * Parses an amount as typed on the command line into wei: `1.5eth`, `0.25ether`, `1500000000gwei`,
 * `42wei`, or a bare integer, which is wei. Exact: no float ever touches the value.
 */
export function parseAmount(raw: string, what = 'amount'): bigint {
  const text = raw.trim().toLowerCase();
  const match = AMOUNT.exec(text);
  const invalid = (why: string) =>
    new CliError(CliErrorCode.INVALID_AMOUNT, `invalid ${what} "${raw}": ${why}`);
  if (!match) {
    throw invalid(
      text.startsWith('-')
        ? 'amounts cannot be negative'
        : /^\d+(\.\d+)?e\d+$/.test(text)
          ? 'scientific notation is not accepted; use a unit instead, e.g. 1eth'
          : 'expected a number with an optional unit, e.g. 1.5eth, 1500000000gwei, 42wei',
    );
  }
  const [, whole, fraction = '', unitText] = match;
  const unit = unitText === '' ? 'wei' : unitText;
  const decimals = UNIT_DECIMALS[unit];
  if (decimals === undefined) throw invalid(`unknown unit "${unitText}" (use eth, gwei or wei)`);
  if (unitText === '' && fraction !== '') {
    throw invalid(`a number without a unit is wei and must be whole; did you mean ${text}eth?`);
  }
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > decimals) {
    throw invalid(
      decimals === 0
        ? 'wei amounts must be whole'
        : `${unit} has at most ${decimals} decimals (the smallest unit is 1 wei)`,
    );
  }
  const wei = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(significant.padEnd(decimals, '0') || '0');
  if (wei > MAX_UINT256) throw invalid('exceeds the largest uint256');
  return wei;
}

/** Exact decimal ETH for a wei amount, without trailing zeros: `1500000000000000000n` → `1.5`. */
export function formatEther(wei: bigint): string {
  const sign = wei < 0n ? '-' : '';
  const abs = wei < 0n ? -wei : wei;
  const whole = abs / WEI_PER_ETH;
  const fraction = (abs % WEI_PER_ETH).toString().padStart(18, '0').replace(/0+$/, '');
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** `1.5 ETH`: how amounts are shown to people (scripts get wei in --json). */
export function formatEth(wei: bigint): string {
  return `${formatEther(wei)} ETH`;
}
