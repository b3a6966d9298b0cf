import { Wallet, type Provider } from 'ethers';
import { ChainError, ChainErrorCode } from '../chain.error.js';

/** Where a service's transaction-signing key comes from. */
export type SignerSource =
  { kind: 'private-key'; privateKey: string } | { kind: 'keystore'; json: string; password: string };

/**
 * The signing wallet, connected to `provider` when one is given. Errors never include the key, the
 * keystore or the password, only what was wrong with them.
 */
export async function loadSigner(source: SignerSource, provider?: Provider): Promise<Wallet> {
  if (source.kind === 'private-key') {
    try {
      return new Wallet(source.privateKey, provider);
    } catch {
      throw new ChainError(ChainErrorCode.INVALID_SIGNER, 'the private key is not a valid secp256k1 key');
    }
  }
  let wallet: Awaited<ReturnType<typeof Wallet.fromEncryptedJson>>;
  try {
    wallet = await Wallet.fromEncryptedJson(source.json, source.password);
  } catch (err) {
    const wrongPassword = /password/i.test((err as Error).message);
    throw new ChainError(
      ChainErrorCode.INVALID_SIGNER,
      wrongPassword ? 'the keystore password is wrong' : 'the keystore is not a valid encrypted JSON wallet',
    );
  }
  return new Wallet(wallet.privateKey, provider);
}
