import { keccak_256 } from '@noble/hashes/sha3.js';
import { createKeccak, type IHasher } from 'hash-wasm';

/*
 * Keccak-256 sits on the validation hot path four times per ticket (ticket hash, EIP-191 digest,
 * signer address, win draw). A reused hash-wasm instance costs ~0.6–1 µs per call here against
 * ~5–9 µs for the pure-JS hasher, which is what keeps validation within ~10% of the bare
 * signature recovery. The JS hasher remains as the fallback where WebAssembly is unavailable.
 */
const wasmHasher = await createKeccak(256).catch(() => undefined);

/*
 * hash-wasm reads its input through `.buffer`, and asking a small typed array (up to 64 bytes,
 * kept on V8's heap) for its buffer moves it off the heap: about 1 µs per hash of a fresh array.
 * Short inputs are copied into this off-heap scratch instead (one view per length, reused).
 */
const SCRATCH_SIZE = 256;
const scratch = new Uint8Array(new ArrayBuffer(SCRATCH_SIZE));
const scratchViews: Uint8Array[] = [];

function wasmKeccak(hasher: IHasher, data: Uint8Array): Uint8Array {
  const length = data.length;
  if (length > SCRATCH_SIZE) return hasher.init().update(data).digest('binary');
  scratch.set(data);
  const view = (scratchViews[length] ??= scratch.subarray(0, length));
  return hasher.init().update(view).digest('binary');
}

/** Which Keccak implementation is in use: `wasm` normally, `js` when WebAssembly failed to load. */
export const keccakImplementation: 'wasm' | 'js' = wasmHasher ? 'wasm' : 'js';

/** Keccak-256 (the Ethereum variant, not SHA3-256) of `data`, as 32 fresh bytes. */
export const keccak256: (data: Uint8Array) => Uint8Array = wasmHasher
  ? (data) => wasmKeccak(wasmHasher, data)
  : (data) => keccak_256(data);
