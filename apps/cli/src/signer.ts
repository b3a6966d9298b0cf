import { readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { Wallet } from 'ethers';
import { CliError, CliErrorCode, usageError } from './cli.error.js';
import { promptHidden, type PromptInput } from './prompt.js';

export interface PasswordSources {
  passwordFile?: string;
  /** The raw environment: KEYSTORE_PASSWORD is read verbatim (spaces are part of a password). */
  env: Readonly<Record<string, string | undefined>>;
  stdin: PromptInput;
  stderr: Writable;
}

/**
 * The keystore password from `--password-file` (one trailing newline dropped), else
 * KEYSTORE_PASSWORD, else a prompt on the terminal (asked twice when `confirm`). Never echoed.
 */
export async function readPassword(sources: PasswordSources, confirm = false): Promise<string> {
  let password: string;
  if (sources.passwordFile !== undefined) {
    try {
      password = (await readFile(sources.passwordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new CliError(
        CliErrorCode.KEYSTORE,
        `cannot read the password file ${sources.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        { cause: err },
      );
    }
  } else if (sources.env.KEYSTORE_PASSWORD) {
    password = sources.env.KEYSTORE_PASSWORD;
  } else if (sources.stdin.isTTY) {
    password = await promptHidden('keystore password: ', sources.stdin, sources.stderr);
    if (
      confirm &&
      (await promptHidden('repeat the password: ', sources.stdin, sources.stderr)) !== password
    ) {
      throw usageError('the two passwords differ');
    }
  } else {
    throw usageError('a keystore password is needed: pass --password-file <file> or set KEYSTORE_PASSWORD');
  }
  if (password === '') throw usageError('the keystore password is empty');
  return password;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The private key held in environment variable `name` (`--private-key-env NAME`): keys never travel
 * as arguments, which other users can read in the process list. The value is never echoed.
 */
export function walletFromEnv(name: string, env: Readonly<Record<string, string | undefined>>): Wallet {
  if (!ENV_NAME.test(name)) throw usageError(`--private-key-env takes a variable name, got "${name}"`);
  const raw = env[name]?.trim();
  if (!raw) throw usageError(`environment variable ${name} is not set`);
  const key = raw.startsWith('0x') ? raw : `0x${raw}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) {
    throw usageError(`environment variable ${name} does not hold a 32-byte hex private key`);
  }
  try {
    return new Wallet(key);
  } catch {
    throw usageError(`environment variable ${name} does not hold a valid secp256k1 private key`);
  }
}
