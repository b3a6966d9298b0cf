import type { ByocJobSigningInput } from '#app/ticket';
import { invalidRequest } from './remote-signer.error.js';

/** The only signing format served: go-livepeer's V1 flattening (docs/remote-signer.md §2a). */
const SIGNATURE_FORMAT_V1 = 'v1';
/** Bounds each text field; the signed job travels in an HTTP header, so it is small in practice. */
const MAX_FIELD_CHARS = 64 * 1024;

/** Go's `encoding/json`: keys match fields case-insensitively, an exact match first. */
function fields(obj: Record<string, unknown>): (name: string) => unknown {
  const folded = new Map<string, unknown>();
  for (const [k, v] of Object.entries(obj)) if (!folded.has(k.toLowerCase())) folded.set(k.toLowerCase(), v);
  return (name) => (Object.hasOwn(obj, name) ? obj[name] : folded.get(name.toLowerCase()));
}

/** A Go `string` field: absent or null is empty, any other JSON type fails decoding. */
function text(value: unknown, name: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalidRequest(`${name} must be a string`);
  if (value.length > MAX_FIELD_CHARS)
    throw invalidRequest(`${name} must be at most ${MAX_FIELD_CHARS} characters`);
  return value;
}

/**
 * A `/sign-byoc-job` body checked as go-livepeer does (400 on each): a JSON object; `id` and
 * `capability` non-empty; `timeout_seconds` a positive integer. The SDK's `signature_format` is
 * ignored upstream (always V1); here anything but absent or `v1` is refused rather than signed
 * in a format the caller did not ask for.
 */
export function parseByocJobRequest(body: unknown): ByocJobSigningInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('the request body must be a JSON object');
  }
  const get = fields(body as Record<string, unknown>);
  const rawTimeout = get('timeout_seconds') ?? 0;
  if (typeof rawTimeout !== 'number' || !Number.isSafeInteger(rawTimeout)) {
    throw invalidRequest('timeout_seconds must be an integer');
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
    timeoutSeconds: rawTimeout,
  };
  if (job.id === '' || job.capability === '') {
    throw invalidRequest('sign-byoc-job requires non-empty id and capability');
  }
  if (job.timeoutSeconds <= 0) throw invalidRequest('sign-byoc-job requires positive timeout_seconds');
  return job;
}
