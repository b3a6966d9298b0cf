import { secp256k1 } from '@noble/curves/secp256k1.js';
import { publicKeyToAddress } from '../address.js';
import { invalidInput } from '../errors.js';
import type { CryptoBackend } from './backend.js';

function assertPrivateKey(privateKey: Uint8Array): void {
  if (!(privateKey instanceof Uint8Array) || !secp256k1.utils.isValidSecretKey(privateKey)) {
    throw invalidInput('private key is invalid');
  }
}

/** Pure-JS fallback (@noble/curves): ~30× slower, used only when the native addon cannot load. */
export const nobleBackend: CryptoBackend = {
  name: 'noble',

  recoverAddress(digest, sig) {
    const v = sig[64];
    if (sig.length !== 65 || (v !== 27 && v !== 28)) return null;
    // noble's "recovered" layout puts the recovery id first.
    const recovered = new Uint8Array(65);
    recovered[0] = v - 27;
    recovered.set(sig.subarray(0, 64), 1);
    try {
      const point = secp256k1.Signature.fromBytes(recovered, 'recovered').recoverPublicKey(digest);
      return publicKeyToAddress(point.toBytes(false));
    } catch {
      return null;
    }
  },

  sign(digest, privateKey) {
    assertPrivateKey(privateKey);
    const recovered = secp256k1.sign(digest, privateKey, { prehash: false, lowS: true, format: 'recovered' });
    const out = new Uint8Array(65);
    out.set(recovered.subarray(1), 0);
    out[64] = 27 + recovered[0];
    return out;
  },

  addressOf(privateKey) {
    assertPrivateKey(privateKey);
    return publicKeyToAddress(secp256k1.getPublicKey(privateKey, false));
  },
};
