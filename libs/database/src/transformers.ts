import type { ValueTransformer } from 'typeorm';

/**
 * numeric(78,0) <-> bigint. pg returns numerics as strings, which is exactly what keeps a
 * uint256 away from JS numbers.
 */
export const uint256Transformer: ValueTransformer = {
  to: (value: bigint | null | undefined) =>
    value === null || value === undefined ? value : value.toString(),
  from: (value: string | null) => (value === null ? null : BigInt(value)),
};

/** int8 <-> bigint (block numbers, rounds, nonces). */
export const int8Transformer: ValueTransformer = uint256Transformer;
