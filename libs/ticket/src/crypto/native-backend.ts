import { createRequire } from 'node:module';
import type * as Secp256k1 from 'secp256k1';
import { publicKeyToAddress } from '../address.js';
import { invalidInput } from '../errors.js';
import type { CryptoBackend } from './backend.js';

/**
 * libsecp256k1 through the `secp256k1` N-API binding. Throws when the native addon cannot load.
 * The package's main entry silently swaps in a slow elliptic.js build on failure, so the binding
 * is loaded directly: a missing addon must be visible to make the fallback choice ours.
 */
export function createNativeBackend(): CryptoBackend {
  const secp = createRequire(import.meta.url)('secp256k1/bindings.js') as typeof Secp256k1;
  // Reused output buffer: recovery is synchronous and the key is hashed before the next call.
  const publicKey = new Uint8Array(65);

  function assertPrivateKey(privateKey: Uint8Array): void {
    if (
      !(privateKey instanceof Uint8Array) ||
      privateKey.length !== 32 ||
      !secp.privateKeyVerify(privateKey)
    ) {
      throw invalidInput('private key is invalid');
    }
  }

  return {
    name: 'native',

    recoverAddress(digest, sig) {
      const v = sig[64];
      if (sig.length !== 65 || (v !== 27 && v !== 28)) return null;
      try {
        secp.ecdsaRecover(sig.subarray(0, 64), v - 27, digest, false, publicKey);
      } catch {
        return null;
      }
      return publicKeyToAddress(publicKey);
    },

    sign(digest, privateKey) {
      assertPrivateKey(privateKey);
      const { signature, recid } = secp.ecdsaSign(digest, privateKey);
      const out = new Uint8Array(65);
      out.set(signature, 0);
      out[64] = 27 + recid;
      return out;
    },

    addressOf(privateKey) {
      assertPrivateKey(privateKey);
      return publicKeyToAddress(secp.publicKeyCreate(privateKey, false));
    },
  };
}
