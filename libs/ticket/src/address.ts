import { ADDRESS_LENGTH } from './constants.js';
import { bytesToHex, hexToBytes } from './bytes.js';
import { invalidInput } from './errors.js';
import { keccak256 } from './keccak.js';
import type { Address } from './types.js';

/** EIP-55 mixed-case checksum form, as go-ethereum's `Address.Hex()` prints it. */
export function toChecksumAddress(address: Address): string {
  const lower = bytesToHex(address).slice(2);
  const hash = keccak256(new TextEncoder().encode(lower));
  let out = '0x';
  for (let i = 0; i < lower.length; i++) {
    const nibble = (hash[i >> 1] >> (i % 2 === 0 ? 4 : 0)) & 15;
    out += nibble >= 8 ? lower[i].toUpperCase() : lower[i];
  }
  return out;
}

/** Whether mixed-case `hex` (an address's 20 bytes `bytes`) fails its EIP-55 checksum. */
function failsChecksum(hex: string, bytes: Address): boolean {
  const digits = hex.slice(2);
  const mixedCase = digits !== digits.toLowerCase() && digits !== digits.toUpperCase();
  return mixedCase && toChecksumAddress(bytes) !== hex;
}

/**
 * Parses a 20-byte hex address. All-lowercase and all-uppercase input is taken as is; mixed case
 * must carry a valid EIP-55 checksum, so a mistyped address fails instead of paying someone else.
 */
export function parseAddress(hex: string, field = 'address'): Address {
  const bytes = hexToBytes(hex, field, ADDRESS_LENGTH);
  if (failsChecksum(hex, bytes)) throw invalidInput(`${field} has an invalid EIP-55 checksum`);
  return bytes;
}

/**
 * What is wrong with `raw` as an address written in text (settings, files, HTTP parameters):
 * 'malformed' unless 0x and 40 hex digits, 'checksum' when mixed case fails EIP-55 (parseAddress's
 * rule); null when it is fine, and then its lowercase form is the address.
 */
export function addressTextProblem(raw: string): 'malformed' | 'checksum' | null {
  if (!/^0x[0-9a-fA-F]{40}$/.test(raw)) return 'malformed';
  return failsChecksum(raw, hexToBytes(raw, 'address', ADDRESS_LENGTH)) ? 'checksum' : null;
}

/** Ethereum address of an uncompressed public key (65 bytes, 0x04 prefix): last 20 bytes of keccak(x‖y). */
export function publicKeyToAddress(uncompressed: Uint8Array): Address {
  return keccak256(uncompressed.subarray(1)).subarray(12);
}
