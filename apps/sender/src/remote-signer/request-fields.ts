import { goDecodedString } from '#app/ticket';
import { invalidRequest } from './remote-signer.error.js';

/*
 * Fields of a `/generate-live-payment` request as goFields hands them over (docs/remote-signer.md
 * §3.1): absent or `null` is the Go zero value; a member of a JSON type Go refuses for the field
 * fails the whole request (400 INVALID_REQUEST).
 */

/** The longest text field a request takes, in characters. */
export const MAX_TEXT = 256;

/**
 * A Go `string` field of at most MAX_TEXT characters. With `goDecoded`, a lone surrogate escape
 * becomes U+FFFD as Go's decoder makes it (where the value is re-encoded and signed, as a usage
 * quote's fields are).
 */
export function textField(value: unknown, name: string, opts: { goDecoded?: boolean } = {}): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string' || value.length > MAX_TEXT) {
    throw invalidRequest(`${name} must be a string of at most ${MAX_TEXT} characters`);
  }
  return opts.goDecoded ? goDecodedString(value) : value;
}

/** An integer field's bound beyond Go's 64 bits, and how a refusal names what is wanted. */
export interface IntegerLimit {
  /** e.g. `an integer of at most 2^53 − 1`. */
  what: string;
  /** The largest magnitude taken; undefined: any Go int64 (goFields already refuses more). */
  max?: bigint;
}

/**
 * A Go `int`/`int64` field: goFields hands a bigint, or the value Go refuses (`1.0`, `1e3`, a
 * string, past 64 bits), which fails here as it fails Go's decode; within ±`limit.max`.
 */
export function integerField(value: unknown, name: string, limit: IntegerLimit): bigint {
  if (value === undefined || value === null) return 0n;
  const max = limit.max;
  if (typeof value !== 'bigint' || (max !== undefined && (value > max || value < -max))) {
    throw invalidRequest(
      `${name} must be ${limit.what}, written without fraction or exponent (Go decodes it as an integer)`,
    );
  }
  return value;
}
