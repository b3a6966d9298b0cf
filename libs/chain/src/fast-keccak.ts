import { keccak256 as ethersKeccak256 } from 'ethers';
import { keccak256, keccakImplementation } from '#app/ticket';

/**
 * ethers hashes with a pure-JS Keccak: every address checksum (ABI encoding and decoding of each
 * redemption call), event topic, tx hash and signing digest pays ~5–9 µs for it, and the Redeemer
 * spent ~8% of its CPU there. ethers lets a faster implementation be registered process-wide; the
 * wasm hasher of libs/ticket gives the same digests. Registered once, when libs/chain is loaded;
 * a second load or a registry locked by someone else leaves ethers' own in place.
 */
function registerFastKeccak(): 'wasm' | 'js' {
  if (keccakImplementation !== 'wasm') return 'js';
  try {
    ethersKeccak256.register(keccak256);
    return 'wasm';
  } catch {
    return 'js';
  }
}

/** Which Keccak ethers uses in this process: `wasm` once registered, `js` if it could not be. */
export const ethersKeccakImplementation = registerFastKeccak();
