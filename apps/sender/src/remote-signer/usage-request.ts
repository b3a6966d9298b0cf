import { isJsonNumber, type UsageAttestation, type UsageQuote, type UsageUpstreamPrice } from '#app/ticket';
import { goFields } from './go-json.js';
import { invalidRequest } from './remote-signer.error.js';
import { integerField, MAX_TEXT, textField, type IntegerLimit } from './request-fields.js';

/*
 * The `quote` and `attestation` objects of a `/generate-live-payment` request, read as Go's
 * `encoding/json` fills go-livepeer's `*runner.LiveRunnerQuote` and `*runner.LiveRunnerUsageAttestation`
 * (keys in any case, the last of a repeated key winning, unknown keys ignored, a member of the
 * wrong JSON type failing the whole request with 400). Go decodes them whatever the payment type;
 * so does this. Their meaning is checked later (libs/ticket usage-quote.ts).
 */

type Get = ReturnType<typeof goFields>;

/** A text member, as Go decodes it (a lone surrogate escape as U+FFFD): the signed bytes are Go's. */
function text(get: Get, name: string, where: string): string {
  return textField(get(name, 'string'), `${where}.${name}`, { goDecoded: true });
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

/** A Go `int`/`int64` member: any integer literal that fits 64 bits, as Go takes it. */
const INT64: IntegerLimit = { what: 'a 64-bit integer' };

function integer(get: Get, name: string, where: string): bigint {
  return integerField(get(name, 'int'), `${where}.${name}`, INT64);
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
