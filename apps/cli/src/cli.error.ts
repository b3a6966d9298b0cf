import { AppError } from '#app/common';

export enum CliErrorCode {
  /** Unknown command or option, missing or malformed argument. */
  USAGE = 'USAGE',
  /** An amount that is not a valid ETH/gwei/wei quantity. */
  INVALID_AMOUNT = 'INVALID_AMOUNT',
  /** A keystore that cannot be read, written or decrypted. */
  KEYSTORE = 'KEYSTORE',
  /** The chain RPC does not answer, or the Controller is not where it was said to be. */
  CHAIN_UNAVAILABLE = 'CHAIN_UNAVAILABLE',
  /** The chain refused the transaction (simulation or mined status 0): the state is unchanged. */
  TX_REVERTED = 'TX_REVERTED',
  /** The transaction could not be sent or confirmed for another reason. */
  TX_FAILED = 'TX_FAILED',
  /** Postgres or Redis could not be used. */
  STORE_UNAVAILABLE = 'STORE_UNAVAILABLE',
  NOT_FOUND = 'NOT_FOUND',
  /** A ticket ended `failed` or `expired`, or was already final and cannot be redeemed again. */
  NOT_REDEEMED = 'NOT_REDEEMED',
  /** The Redeemer's ops endpoint did not answer. */
  REDEEMER_UNAVAILABLE = 'REDEEMER_UNAVAILABLE',
  /** The Redeemer's ops endpoint refused the request (token, not active, ticket not served…). */
  REDEEMER_REFUSED = 'REDEEMER_REFUSED',
  /** Waiting (confirmations, redemption) took longer than allowed; nothing was undone. */
  TIMEOUT = 'TIMEOUT',
  /** Conformance vectors that do not all pass. */
  CONFORMANCE_FAILED = 'CONFORMANCE_FAILED',
}

/** Process exit status per error: 2 when the invocation itself is wrong, 1 when running it failed. */
export const EXIT_CODES: Readonly<Record<CliErrorCode, 1 | 2>> = {
  [CliErrorCode.USAGE]: 2,
  [CliErrorCode.INVALID_AMOUNT]: 2,
  [CliErrorCode.KEYSTORE]: 1,
  [CliErrorCode.CHAIN_UNAVAILABLE]: 1,
  [CliErrorCode.TX_REVERTED]: 1,
  [CliErrorCode.TX_FAILED]: 1,
  [CliErrorCode.STORE_UNAVAILABLE]: 1,
  [CliErrorCode.NOT_FOUND]: 1,
  [CliErrorCode.NOT_REDEEMED]: 1,
  [CliErrorCode.REDEEMER_UNAVAILABLE]: 1,
  [CliErrorCode.REDEEMER_REFUSED]: 1,
  [CliErrorCode.TIMEOUT]: 1,
  [CliErrorCode.CONFORMANCE_FAILED]: 1,
};

/** Every failure the CLI reports: its message is what the operator reads, its code what scripts match. */
export class CliError extends AppError<CliErrorCode> {
  readonly domain = 'cli';
  /** Structured detail for `--json` error output (e.g. the failing conformance cases). */
  details?: unknown;

  get exitCode(): 1 | 2 {
    return EXIT_CODES[this.code];
  }
}

export const usageError = (message: string): CliError => new CliError(CliErrorCode.USAGE, message);
