import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getAddress, Wallet, type BaseWallet } from 'ethers';
import { CliError, CliErrorCode } from './cli.error.js';

export interface KeystoreEntry {
  /** Checksummed. */
  address: string;
  file: string;
}

/**
 * Encrypts the wallet into an ethers/geth V3 keystore (scrypt) and writes it as
 * `UTC--<time>--<address>` in `dir`, readable by the owner only. Refuses to add a second file for
 * an address the folder already holds.
 */
export async function writeKeystore(dir: string, wallet: Wallet, password: string): Promise<KeystoreEntry> {
  await assertNoKeystoreFor(dir, wallet.address);
  const json = await wallet.encrypt(password);
  const file = join(
    dir,
    `UTC--${new Date().toISOString().replace(/:/g, '-')}--${wallet.address.slice(2).toLowerCase()}`,
  );
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(file, json, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw new CliError(CliErrorCode.KEYSTORE, `cannot write ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { address: wallet.address, file };
}

/** Refuses an address the folder already holds a keystore for (a second copy would only confuse). */
export async function assertNoKeystoreFor(dir: string, address: string): Promise<void> {
  const existing = (await listKeystores(dir, { missingOk: true })).find((e) => e.address === address);
  if (existing) {
    throw new CliError(CliErrorCode.KEYSTORE, `a keystore for ${address} already exists: ${existing.file}`);
  }
}

/** Keystores in `dir` by the address they declare (nothing is decrypted), sorted by file name. */
export async function listKeystores(
  dir: string,
  options: { missingOk?: boolean } = {},
): Promise<KeystoreEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      if (options.missingOk) return [];
      throw new CliError(CliErrorCode.KEYSTORE, `no keystore folder at ${dir}`, { cause: err });
    }
    throw new CliError(CliErrorCode.KEYSTORE, `cannot read ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const entries: KeystoreEntry[] = [];
  for (const name of names.sort()) {
    const file = join(dir, name);
    const address = await declaredAddress(file);
    if (address) entries.push({ address, file });
  }
  return entries;
}

async function declaredAddress(file: string): Promise<string | undefined> {
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    const address = json.address;
    if (typeof address !== 'string' || !(json.crypto ?? json.Crypto)) return undefined;
    return getAddress(address.startsWith('0x') ? address : `0x${address}`);
  } catch {
    return undefined; // not a keystore (or a folder): skipped
  }
}

/** Decrypts a keystore file. A wrong password and an unreadable file are told apart. */
export async function decryptKeystore(file: string, password: string): Promise<BaseWallet> {
  let json: string;
  try {
    json = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(CliErrorCode.KEYSTORE, `cannot read keystore ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return await Wallet.fromEncryptedJson(json, password);
  } catch (err) {
    const message = (err as { shortMessage?: string }).shortMessage ?? (err as Error).message;
    throw new CliError(
      CliErrorCode.KEYSTORE,
      /password/i.test(message)
        ? `wrong password for keystore ${file}`
        : `${file} is not a usable V3 keystore: ${message}`,
      { cause: err },
    );
  }
}
