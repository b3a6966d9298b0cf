import type { ByocJobSigningInput } from '#app/ticket';
import { goFields } from './go-json.js';
import { invalidRequest } from './remote-signer.error.js';

/** The one signing format a caller may name: go-livepeer's V1 flattening (docs/remote-signer.md §2a). */
const SIGNATURE_FORMAT_V1 = 'v1';
/** A Go `string` field: absent or null is empty, any other JSON type fails decoding. Bounded by the body's bound. */
function text(value: unknown, name: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalidRequest(`${name} must be a string`);
  return value;
}

/** A checked `/sign-byoc-job` body: which payload to sign (docs/remote-signer.md §2a). */
export type ByocJobSignRequest =
  { format: 'v1'; job: ByocJobSigningInput } | { format: 'legacy'; request: string; parameters: string };

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Absent, or `null` (Go decodes both to the zero value). */
const missing = (v: unknown) => v === undefined || v === null;

/**
 * A `/sign-byoc-job` body. With none of `id`, `capability`, `timeout_seconds`, `signature_format`
 * it is the legacy request the Python SDK's `sign_byoc_job` sends (`{request, parameters}`, signed
 * as `request + parameters`); one of those fields present makes it a V1 request, checked as
 * go-livepeer does (400 on each): `id` and `capability` non-empty, `timeout_seconds` a positive
 * integer. The SDK's `signature_format` is ignored upstream (always V1); here anything but absent
 * or `v1` is refused rather than signed in a format the caller did not ask for.
 */
export function parseByocJobRequest(body: unknown): ByocJobSignRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('the request body must be a JSON object');
  }
  const all = goFields(body);
  const get = (name: string) => all(name, 'string');
  const timeout = all('timeout_seconds', 'int');
  if (missing(timeout) && ['id', 'capability', 'signature_format'].every((k) => missing(get(k)))) {
    // Upstream signs the empty string for a body without either field; a body that names no job
    // at all is refused (an explicit "" is signed, as upstream).
    if (missing(get('request')) && missing(get('parameters'))) {
      throw invalidRequest(
        'sign-byoc-job requires request and parameters (legacy) or id, capability and timeout_seconds (V1)',
      );
    }
    return {
      format: 'legacy',
      request: text(get('request'), 'request'),
      parameters: text(get('parameters'), 'parameters'),
    };
  }
  // Go's `int`: goFields hands a bigint, or the value Go refuses (`60.0`, `6e1`, a string).
  const rawTimeout = timeout ?? 0n;
  if (typeof rawTimeout !== 'bigint' || rawTimeout > MAX_SAFE || rawTimeout < -MAX_SAFE) {
    throw invalidRequest(
      'timeout_seconds must be an integer of at most 2^53 − 1, written without fraction or exponent (Go decodes it as an int)',
    );
  }
  const format = get('signature_format');
  if (format !== undefined && format !== null && format !== SIGNATURE_FORMAT_V1) {
    throw invalidRequest(`unsupported signature_format ${JSON.stringify(format)}: only "v1" is served`);
  }
  const job: ByocJobSigningInput = {
    id: text(get('id'), 'id'),
    capability: text(get('capability'), 'capability'),
    request: text(get('request'), 'request'),
    parameters: text(get('parameters'), 'parameters'),
    timeoutSeconds: Number(rawTimeout),
  };
  if (job.id === '' || job.capability === '') {
    throw invalidRequest('sign-byoc-job requires non-empty id and capability');
  }
  if (job.timeoutSeconds <= 0) throw invalidRequest('sign-byoc-job requires positive timeout_seconds');
  return { format: 'v1', job };
}
