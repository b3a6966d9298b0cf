import {
  goDecodedString,
  isJsonNumber,
  type UsageAttestation,
  type UsageQuote,
  type UsageUpstreamPrice,
} from '#app/ticket';
import { goFields } from './go-json.js';
import { invalidRequest } from './remote-signer.error.js';

/*
 * The `quote` and `attestation` objects of a `/generate-live-payment` request, read as Go's
 * `encoding/json` fills go-livepeer's `*runner.LiveRunnerQuote` and `*runner.LiveRunnerUsageAttestation`
 * (keys in any case, the last of a repeated key winning, unknown keys ignored, a member of the
 * wrong JSON type failing the whole request with 400). Go decodes them whatever the payment type;
 * so does this. Their meaning is checked later (libs/ticket usage-quote.ts).
 */

/** As every other text field of the request (docs/remote-signer.md §3.1). */
const MAX_TEXT = 256;

type Get = ReturnType<typeof goFields>;

function text(get: Get, name: string, where: string): string {
  const value = get(name, 'string');
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string' || value.length > MAX_TEXT) {
    throw invalidRequest(`${where}.${name} must be a string of at most ${MAX_TEXT} characters`);
  }
  // Go's decoder turns a lone surrogate escape into U+FFFD; the signed bytes are Go's.
  return goDecodedString(value);
}

/** A Go `json.Number`: a JSON number (its literal kept) or a string holding one; '' when absent. */
function number(get: Get, name: string, where: string): string {
  const value = get(name, 'number');
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string' || value.length > MAX_TEXT || !isJsonNumber(value)) {
    throw invalidRequest(
      `${where}.${name} must be a JSON number (or a string holding one) of at most ${MAX_TEXT} characters`,
    );
  }
  return value;
}

/** A Go `int`/`int64`: an integer literal that fits 64 bits (goFields hands anything else back). */
function integer(get: Get, name: string, where: string): bigint {
  const value = get(name, 'int');
  if (value === undefined || value === null) return 0n;
  if (typeof value !== 'bigint') {
    throw invalidRequest(
      `${where}.${name} must be a 64-bit integer written without fraction or exponent (Go decodes it as an integer)`,
    );
  }
  return value;
}

/** An object field (a Go struct pointer): undefined when absent or `null`. */
function object(value: unknown, where: string): Get | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequest(`${where} must be an object`);
  return goFields(value);
}

function upstream(value: unknown): UsageUpstreamPrice | undefined {
  const get = object(value, 'quote.upstream');
  if (get === undefined) return undefined;
  const where = 'quote.upstream';
  return {
    provider: text(get, 'provider', where),
    endpointId: text(get, 'endpoint_id', where),
    unit: text(get, 'unit', where),
    unitPrice: number(get, 'unit_price', where),
    currency: text(get, 'currency', where),
    fetchedAt: text(get, 'fetched_at', where),
  };
}

/** The request's `quote`, from the value goFields gave for it (`*struct`). */
export function parseUsageQuote(raw: unknown): UsageQuote | undefined {
  const get = object(raw, 'quote');
  if (get === undefined) return undefined;
  const where = 'quote';
  return {
    quoteId: text(get, 'quote_id', where),
    app: text(get, 'app', where),
    manifestId: text(get, 'manifest_id', where),
    sellPrice: number(get, 'sell_price', where),
    sellUnit: text(get, 'sell_unit', where),
    upchargeBps: integer(get, 'upcharge_bps', where),
    weiPricePerUnit: integer(get, 'wei_price_per_unit', where),
    weiPixelsPerUnit: integer(get, 'wei_pixels_per_unit', where),
    upstream: upstream(get('upstream', '*struct')),
    maxUnits: number(get, 'max_units', where),
    expiresAt: integer(get, 'expires_at', where),
    orchSig: text(get, 'orch_sig', where),
  };
}

/** The request's `attestation`, from the value goFields gave for it (`*struct`). */
export function parseUsageAttestation(raw: unknown): UsageAttestation | undefined {
  const get = object(raw, 'attestation');
  if (get === undefined) return undefined;
  const where = 'attestation';
  return {
    quoteId: text(get, 'quote_id', where),
    billableUnits: number(get, 'billable_units', where),
    sellPrice: number(get, 'sell_price', where),
    costWei: text(get, 'cost_wei', where),
    orchSig: text(get, 'orch_sig', where),
  };
}
