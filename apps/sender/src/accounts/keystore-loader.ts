import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decryptKeystoreJson, getBytes, isError, isKeystoreJson } from 'ethers';
import { hexToBytes, PrivateKeySigner, type AccountSigner } from '#app/ticket';

/**
 * One account this node signs tickets for. Its key is behind `signer`: decrypted into this
 * process (a keystore) or held by a remote signing service; nothing else here ever sees it.
 */
export interface SenderAccount {
  /** Lowercase 0x-hex address: the key every map and log field uses. */
  readonly addressHex: string;
  readonly address: Uint8Array;
  /** Where the key lives (keystore path, signer URL), for logs. */
  readonly source: string;
  readonly signer: AccountSigner;
}

/** The account a signer signs for. */
export function senderAccount(signer: AccountSigner): SenderAccount {
  return {
    addressHex: signer.addressHex,
    address: hexToBytes(signer.addressHex, 'address', 20),
    source: signer.source,
    signer,
  };
}

export interface KeystoreSources {
  dir?: string;
  files: readonly string[];
}

/** geth names its keystores `UTC--<time>--<address>`; other tools write `*.json`. */
function isKeystoreName(name: string): boolean {
  return name.endsWith('.json') || name.startsWith('UTC--');
}

/** Every keystore path configured: the directory's keystores (sorted), then the listed files. */
export function keystorePaths(sources: KeystoreSources, problems: string[]): string[] {
  const paths: string[] = [];
  if (sources.dir !== undefined) {
    try {
      for (const name of readdirSync(sources.dir).sort()) {
        const path = join(sources.dir, name);
        if (isKeystoreName(name) && statSync(path).isFile()) paths.push(path);
      }
    } catch (err) {
      problems.push(
        `SENDER_KEYSTORE_DIR: cannot list ${sources.dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  paths.push(...sources.files);
  return paths;
}

/**
 * Decrypts every keystore with `password`. Each failure (unreadable file, not a V3 keystore,
 * wrong password, same account twice) is added to `problems` naming the file, never the password.
 * Decryption runs one keystore at a time: scrypt is CPU- and memory-hungry by design.
 */
export async function loadKeystores(
  paths: readonly string[],
  password: string,
  problems: string[],
): Promise<SenderAccount[]> {
  const accounts: SenderAccount[] = [];
  const seen = new Map<string, string>();
  for (const path of paths) {
    let json: string;
    try {
      json = readFileSync(path, 'utf8');
    } catch (err) {
      problems.push(`keystore ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      continue;
    }
    if (!isKeystoreJson(json)) {
      problems.push(`keystore ${path}: not an Ethereum V3 keystore`);
      continue;
    }
    let decrypted: { address: string; privateKey: string };
    try {
      decrypted = await decryptKeystoreJson(json, password);
    } catch (err) {
      const wrongPassword = isError(err, 'INVALID_ARGUMENT') && err.shortMessage === 'incorrect password';
      problems.push(
        wrongPassword
          ? `keystore ${path}: wrong password, cannot decrypt it`
          : `keystore ${path}: cannot decrypt it (${isError(err, 'INVALID_ARGUMENT') ? err.shortMessage : 'unsupported or corrupt keystore'})`,
      );
      continue;
    }
    const addressHex = decrypted.address.toLowerCase();
    const previous = seen.get(addressHex);
    if (previous !== undefined) {
      problems.push(`keystore ${path}: account ${addressHex} is already loaded from ${previous}`);
      continue;
    }
    seen.set(addressHex, path);
    accounts.push(senderAccount(new PrivateKeySigner(getBytes(decrypted.privateKey), path)));
  }
  return accounts;
}
