import type { UsageAttestation, UsageQuote } from '#app/ticket';
import { goFields, goMaxPrice } from './go-json.js';
import { invalidRequest } from './remote-signer.error.js';
import { integerField, textField as text, type IntegerLimit } from './request-fields.js';
import { parseUsageAttestation, parseUsageQuote } from './usage-request.js';

/** A `/generate-live-payment` request, checked (docs/remote-signer.md §3.1). */
export interface LivePaymentRequest {
  /** Protobuf `net.OrchestratorInfo`. */
  orchestrator: Uint8Array;
  /** The sealed state of the previous call; absent on a session's first. */
  state?: { state: Uint8Array; sig: Uint8Array };
  manifestId: string;
  app: string;
  inPixels: bigint;
  /** Checked later (parseRemotePaymentType), after the refresh check, where go-livepeer checks it. */
  type: string;
  /** Parsed later, against the type. */
  maxPrice: unknown;
  /** Protobuf `net.Capabilities`, kept encoded; empty when absent. */
  capabilities: Uint8Array;
  /** The BYOC capability name the Python SDK's BYOC client sends instead of a ManifestID. */
  capability: string;
  /** Expected job duration (`timeoutSeconds`): a BYOC session's first call prepays it (≥ 60 s). */
  timeoutSeconds: bigint;
  /** `usage`: the orchestrator-signed quote (required on a session's first call). */
  quote: UsageQuote | undefined;
  /** `usage`: orchestrator-signed realized usage to settle. */
  attestation: UsageAttestation | undefined;
}

/** Go's base64.StdEncoding: standard alphabet, padded. */
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_BLOB_BYTES = 64 * 1024;

function bytes(value: unknown, name: string): Uint8Array {
  if (value === undefined || value === null) return new Uint8Array(0);
  // Go's decoder skips line breaks (MIME-style base64 wrapped at 76 columns).
  const b64 = typeof value === 'string' ? value.replace(/[\r\n]/g, '') : undefined;
  if (b64 === undefined || b64.length > (MAX_BLOB_BYTES * 4) / 3 + 4 || !STD_BASE64.test(b64)) {
    throw invalidRequest(`${name} must be standard padded base64 of at most ${MAX_BLOB_BYTES} bytes`);
  }
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/** The integer fields are bounded to ±(2^53 − 1), as the checks after decoding assume. */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const SAFE_INTEGER: IntegerLimit = { what: 'an integer of at most 2^53 − 1', max: MAX_SAFE };
const SAFE_NON_NEGATIVE: IntegerLimit = { what: 'a non-negative integer of at most 2^53 − 1', max: MAX_SAFE };

export function parseLivePaymentRequest(body: unknown): LivePaymentRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('the request body must be a JSON object');
  }
  const get = goFields(body);
  const orchestrator = bytes(get('orchestrator', 'bytes'), 'orchestrator');
  if (orchestrator.length === 0) throw invalidRequest('missing orchestrator');

  let state: LivePaymentRequest['state'];
  // A struct field upstream (RemotePaymentStateSig): repeated `state` objects merge, null is a no-op.
  const rawState = get('state', 'struct');
  if (rawState !== undefined) {
    if (typeof rawState !== 'object' || rawState === null || Array.isArray(rawState)) {
      throw invalidRequest('state must be an object {State, Sig}');
    }
    const s = goFields(rawState);
    const blob = bytes(s('State', 'bytes'), 'state.State');
    const sig = bytes(s('Sig', 'bytes'), 'state.Sig');
    if (blob.length > 0 || sig.length > 0) state = { state: blob, sig };
  }

  const inPixels = integerField(get('inPixels', 'int'), 'inPixels', SAFE_INTEGER);
  const timeoutSeconds = integerField(get('timeoutSeconds', 'int'), 'timeoutSeconds', SAFE_NON_NEGATIVE);
  if (timeoutSeconds < 0n) throw invalidRequest('timeoutSeconds must be a non-negative integer');
  return {
    orchestrator,
    state,
    manifestId: text(get('ManifestID', 'string'), 'ManifestID'),
    app: text(get('app', 'string'), 'app'),
    inPixels,
    type: text(get('type', 'string'), 'type'),
    maxPrice: goMaxPrice(get('maxPrice', '*struct')),
    capabilities: bytes(get('capabilities', 'bytes'), 'capabilities'),
    capability: text(get('capability', 'string'), 'capability'),
    timeoutSeconds,
    quote: parseUsageQuote(get('quote', '*struct')),
    attestation: parseUsageAttestation(get('attestation', '*struct')),
  };
}
