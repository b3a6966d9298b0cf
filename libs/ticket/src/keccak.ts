import { keccak_256 } from '@noble/hashes/sha3.js';
import { createKeccak } from 'hash-wasm';

/*
 * Keccak-256 sits on the validation hot path four times per ticket (ticket hash, EIP-191 digest,
 * signer address, win draw). A reused hash-wasm instance costs ~0.6–1 µs per call here against
 * ~5–9 µs for the pure-JS hasher, which is what keeps validation within ~10% of the bare
 * signature recovery. The JS hasher remains as the fallback where WebAssembly is unavailable.
 */
const wasmHasher = await createKeccak(256).catch(() => undefined);

/** Which Keccak implementation is in use: `wasm` normally, `js` when WebAssembly failed to load. */
export const keccakImplementation: 'wasm' | 'js' = wasmHasher ? 'wasm' : 'js';

/** Keccak-256 (the Ethereum variant, not SHA3-256) of `data`, as 32 fresh bytes. */
export const keccak256: (data: Uint8Array) => Uint8Array = wasmHasher
  ? (data) => wasmHasher.init().update(data).digest('binary')
  : (data) => keccak_256(data);
