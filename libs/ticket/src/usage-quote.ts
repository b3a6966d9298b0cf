import { equalBytes, hexToBytes } from './bytes.js';
import { MAX_INT64 } from './constants.js';
import { invalidInput, TicketError, TicketErrorCode } from './errors.js';
import { keccak256 } from './keccak.js';
import { Rational } from './rational.js';
import type { Address, Bytes32 } from './types.js';
import { isJsonNumber, MAX_DECIMAL_EXPONENT, readDecimal, type UnitPrice } from './remote-payment.js';

/*
 * go-livepeer's `usage` remote payment type (docs/remote-signer.md §3.8): the orchestrator quotes
 * a settlement rate and signs it; the gateway's first call locks that quote into the session,
 * and later calls settle usage the orchestrator attests to (also signed), at the locked price.
 * Pure: the caller decodes the request (Go's JSON rules), passes `now` and a signature recovery.
 */

/**
 * The quote's `upstream` (go-livepeer `LiveRunnerUpstreamPrice`, the provider price a sell price
 * was derived from). Its Go definition is not in the stored upstream sources: the JSON names and
 * their order below (and that each is left out when empty) are ticketpay's reading of the code
 * that fills it, so a quote carrying `upstream` verifies only if that reading is right.
 */
export interface UsageUpstreamPrice {
  provider: string;
  endpointId: string;
  unit: string;
  /** A JSON number's text (Go `json.Number`), '' when absent. */
  unitPrice: string;
  currency: string;
  fetchedAt: string;
}

/** An orchestrator-signed quote (go-livepeer `LiveRunnerQuote`), as decoded from a request. */
export interface UsageQuote {
  quoteId: string;
  app: string;
  manifestId: string;
  /** A JSON number's text (Go `json.Number`), '' when absent. */
  sellPrice: string;
  sellUnit: string;
  /** Go `int`. */
  upchargeBps: bigint;
  weiPricePerUnit: bigint;
  weiPixelsPerUnit: bigint;
  upstream: UsageUpstreamPrice | undefined;
  /** A JSON number's text, '' when absent (then one unit, go-livepeer `DefaultUsageMaxUnits`). */
  maxUnits: string;
  /** Unix seconds; 0 = never expires. */
  expiresAt: bigint;
  /** Hex of the orchestrator's 65-byte signature, optional `0x`. */
  orchSig: string;
}

/** Realized usage the orchestrator signed for a quote (go-livepeer `LiveRunnerUsageAttestation`). */
export interface UsageAttestation {
  quoteId: string;
  /** A JSON number's text. */
  billableUnits: string;
  /** A JSON number's text. */
  sellPrice: string;
  costWei: string;
  orchSig: string;
}

/** What a session keeps of its quote (state fields QuoteID, SellUnit, UpchargeBps; the price). */
export interface UsageQuoteLock {
  initialPrice: UnitPrice;
  quoteId: string;
  sellUnit: string;
  upchargeBps: number;
}

/** The signer of a personal-signed (EIP-191) 32-byte hash, or null (e.g. `personalSigner`). */
export type PersonalRecover = (hash32: Bytes32, sig: Uint8Array) => Address | null;

/** go-livepeer's `DefaultUsageMaxUnits`: a call without attestation prepays one unit. */
export const DEFAULT_USAGE_MAX_UNITS = '1';

/** Lone UTF-16 surrogates as U+FFFD: the string Go's JSON decoder makes of the same input. */
export function goDecodedString(value: string): string {
  return value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/**
 * A string as Go's `encoding/json` writes it: `"` and `\` escaped, `\b \f \n \r \t` short (Go ≥
 * 1.22), other control characters and HTML's `< > &` as `\u00XX`, U+2028/U+2029 escaped, every
 * other character (U+FFFD for a lone surrogate) as UTF-8.
 */
export function goJsonString(value: string): string {
  let out = '"';
  for (const ch of goDecodedString(value)) {
    const code = ch.codePointAt(0)!;
    const short = GO_SHORT_ESCAPES.get(ch);
    if (short !== undefined) out += short;
    else if (code < 0x20 || ch === '<' || ch === '>' || ch === '&') {
      out += `\\u00${code.toString(16).padStart(2, '0')}`;
    } else if (code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16)}`;
    else out += ch;
  }
  return `${out}"`;
}

const GO_SHORT_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '\\"'],
  ['\\', '\\\\'],
  ['\b', '\\b'],
  ['\f', '\\f'],
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
]);

/**
 * A `json.Number` as Go's `encoding/json` writes it: its literal, `0` when empty; refused
 * (INVALID_INPUT) when it is no JSON number literal, as Go's encoder fails then.
 */
export function goJsonNumber(text: string, field = 'a json.Number'): string {
  if (text === '') return '0';
  if (!isJsonNumber(text)) throw invalidInput(`${field} is not a JSON number`);
  return text;
}

/** Go `json.Marshal` of a struct given as [name, JSON text] members (undefined: omitted). */
function goObject(members: readonly (readonly [string, string | undefined])[]): string {
  const parts = members.filter(([, v]) => v !== undefined).map(([k, v]) => `${goJsonString(k)}:${v}`);
  return `{${parts.join(',')}}`;
}

const omitEmpty = (text: string, json: string): string | undefined => (text === '' ? undefined : json);

function upstreamJson(u: UsageUpstreamPrice): string {
  return goObject([
    ['provider', omitEmpty(u.provider, goJsonString(u.provider))],
    ['endpoint_id', omitEmpty(u.endpointId, goJsonString(u.endpointId))],
    ['unit', omitEmpty(u.unit, goJsonString(u.unit))],
    ['unit_price', omitEmpty(u.unitPrice, goJsonNumber(u.unitPrice, 'upstream.unit_price'))],
    ['currency', omitEmpty(u.currency, goJsonString(u.currency))],
    ['fetched_at', omitEmpty(u.fetchedAt, goJsonString(u.fetchedAt))],
  ]);
}

/**
 * The bytes the orchestrator signs for a quote (go-livepeer `LiveRunnerQuote.SigningBytes`): Go's
 * `json.Marshal` of the quote without `orch_sig`, its fields in this order, `upstream` left out
 * when absent.
 */
export function quoteSigningBytes(q: UsageQuote): Uint8Array {
  const json = goObject([
    ['quote_id', goJsonString(q.quoteId)],
    ['app', goJsonString(q.app)],
    ['manifest_id', goJsonString(q.manifestId)],
    ['sell_price', goJsonNumber(q.sellPrice, 'quote.sell_price')],
    ['sell_unit', goJsonString(q.sellUnit)],
    ['upcharge_bps', q.upchargeBps.toString()],
    ['wei_price_per_unit', q.weiPricePerUnit.toString()],
    ['wei_pixels_per_unit', q.weiPixelsPerUnit.toString()],
    ['upstream', q.upstream === undefined ? undefined : upstreamJson(q.upstream)],
    ['max_units', goJsonNumber(q.maxUnits, 'quote.max_units')],
    ['expires_at', q.expiresAt.toString()],
  ]);
  return new TextEncoder().encode(json);
}

/** The bytes the orchestrator signs for an attestation (go-livepeer `SigningBytes`). */
export function attestationSigningBytes(a: UsageAttestation): Uint8Array {
  const json = goObject([
    ['quote_id', goJsonString(a.quoteId)],
    ['billable_units', goJsonNumber(a.billableUnits, 'attestation.billable_units')],
    ['sell_price', goJsonNumber(a.sellPrice, 'attestation.sell_price')],
    ['cost_wei', goJsonString(a.costWei)],
  ]);
  return new TextEncoder().encode(json);
}

/**
 * The 65 signature bytes of an `orch_sig` (go-livepeer `decodeOrchSig`): surrounding whitespace
 * and one `0x`/`0X` dropped, then hex.
 */
export function decodeOrchSig(sigHex: string): Uint8Array {
  let text = sigHex.trim();
  if (text.startsWith('0x') || text.startsWith('0X')) text = text.slice(2);
  if (text === '') throw invalidInput('missing signature');
  const bad = /[^0-9a-fA-F]/.exec(text);
  if (bad) {
    // Go reports the offending byte with %#U: U+0067 'g' (a non-ASCII character: its first byte).
    const byte = new TextEncoder().encode(bad[0])[0];
    const shown = byte >= 0x20 && byte < 0x7f ? ` '${bad[0]}'` : '';
    throw invalidInput(
      `encoding/hex: invalid byte: U+${byte.toString(16).toUpperCase().padStart(4, '0')}${shown}`,
    );
  }
  if (text.length % 2 !== 0) throw invalidInput('encoding/hex: odd length hex string');
  return hexToBytes(`0x${text}`, 'orch_sig');
}

/**
 * Throws unless `orchestrator` personal-signed keccak256(`payload`) as `sigHex` (go-livepeer
 * `verifyOrchSigned`: `VerifySig` over the keccak256 of the signing bytes; 65 bytes, low s,
 * v ∈ {27, 28}).
 */
export function verifyOrchSigned(
  orchestrator: Address,
  payload: Uint8Array,
  sigHex: string,
  recover: PersonalRecover,
): void {
  const sig = decodeOrchSig(sigHex);
  const signer = recover(keccak256(payload), sig);
  if (signer === null || !equalBytes(signer, orchestrator)) {
    throw invalidInput('invalid orchestrator signature');
  }
}

/**
 * `step`, its input refusals (only those) reworded as `prefix: message`, where go-livepeer wraps
 * them (a quote's signature and max_units; an attestation's signature error is returned as is).
 */
function prefixed<T>(prefix: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof TicketError && err.code === TicketErrorCode.INVALID_INPUT) {
      throw invalidInput(`${prefix}: ${err.message}`);
    }
    throw err;
  }
}

/** What lockUsageQuote checks a quote against. */
export interface UsageQuoteContext {
  /** OrchestratorInfo.address: who must have signed the quote. */
  orchestrator: Address;
  /** The request's ManifestID ('' when absent). */
  manifestId: string;
  /** OrchestratorInfo.price_info, which the quote's converted price must equal exactly. */
  price: UnitPrice;
  nowMs: number;
  recover: PersonalRecover;
}

/**
 * A usage session's first call (go-livepeer `lockUsageQuote`), in its order: a quote is required,
 * signed by the orchestrator, for the request's manifest (when it names one), unexpired, with a
 * converted wei price equal to the orchestrator's price. Its price becomes the session's initial
 * price. Throws INVALID_INPUT (HTTP 400) with go-livepeer's messages.
 */
export function lockUsageQuote(quote: UsageQuote | undefined, ctx: UsageQuoteContext): UsageQuoteLock {
  if (quote === undefined) throw invalidInput('usage payment requires an orch-signed quote');
  prefixed('invalid quote signature', () =>
    verifyOrchSigned(ctx.orchestrator, quoteSigningBytes(quote), quote.orchSig, ctx.recover),
  );
  if (ctx.manifestId !== '' && quote.manifestId !== goDecodedString(ctx.manifestId)) {
    throw invalidInput('quote manifest_id mismatch');
  }
  if (quote.expiresAt > 0n && BigInt(Math.floor(ctx.nowMs / 1000)) > quote.expiresAt) {
    throw invalidInput('quote expired');
  }
  if (quote.weiPricePerUnit <= 0n || quote.weiPixelsPerUnit <= 0n) {
    throw invalidInput('quote is missing converted sell price');
  }
  if (
    quote.weiPricePerUnit !== ctx.price.pricePerUnit ||
    quote.weiPixelsPerUnit !== ctx.price.pixelsPerUnit
  ) {
    throw invalidInput('quote sell price does not match orchestrator price');
  }
  if (
    quote.upchargeBps > BigInt(Number.MAX_SAFE_INTEGER) ||
    quote.upchargeBps < -BigInt(Number.MAX_SAFE_INTEGER)
  ) {
    // The state keeps it as a JSON number; go-livepeer takes any Go int.
    throw invalidInput('quote upcharge_bps must be within ±(2^53 − 1)');
  }
  return {
    initialPrice: { pricePerUnit: quote.weiPricePerUnit, pixelsPerUnit: quote.weiPixelsPerUnit },
    quoteId: quote.quoteId,
    sellUnit: quote.sellUnit,
    upchargeBps: Number(quote.upchargeBps),
  };
}

/**
 * Checks an attestation (go-livepeer `verifyUsageAttestation`): for the quote the session locked,
 * signed by the orchestrator. A signature refusal is verifyOrchSigned's message as it is (Go
 * returns that error unwrapped, where a quote's is prefixed `invalid quote signature: `).
 */
export function verifyUsageAttestation(
  lockedQuoteId: string,
  attestation: UsageAttestation,
  orchestrator: Address,
  recover: PersonalRecover,
): void {
  if (lockedQuoteId === '' || attestation.quoteId !== lockedQuoteId) {
    throw invalidInput('attestation quote_id does not match locked quote');
  }
  verifyOrchSigned(orchestrator, attestationSigningBytes(attestation), attestation.orchSig, recover);
}

/**
 * A unit count as go-livepeer's `ParsePositiveRat` reads a `json.Number`: an exact rational, zero
 * allowed (`-0` too), negative refused (`invalid decimal "…"`), empty refused (`missing decimal`);
 * within readDecimal's bounds (ticketpay's).
 */
export function parseUsageUnits(text: string): Rational {
  const raw = text.trim();
  if (raw === '') throw invalidInput('missing decimal');
  const value = readDecimal(raw, { signed: true, jsonNumber: true });
  if (value === 'exponent') {
    throw invalidInput(`invalid decimal ${JSON.stringify(raw)}: exponent beyond ±${MAX_DECIMAL_EXPONENT}`);
  }
  if (value === 'syntax' || value.sign() < 0) throw invalidInput(`invalid decimal ${JSON.stringify(raw)}`);
  return value;
}

/** go-livepeer's `CeilRatToInt64`: the units rounded up; 0 when not positive or past int64. */
export function ceilUnits(units: Rational): bigint {
  if (units.sign() <= 0) return 0n;
  const up = units.ceil();
  return up > MAX_INT64 ? 0n : up;
}

/** What a usage call is charged for. */
export interface UsageUnits {
  /** The exact units the fee is computed from (go-livepeer's `usageUnits`). */
  units: Rational;
  /** Those units rounded up (at least 1 without an attestation), for logs: the fee uses `units`. */
  billable: bigint;
  /** Whether an attestation settled this call (a call that then needs no tickets is not a 482). */
  attested: boolean;
}

/**
 * The units of a usage call (go-livepeer's `usage` branch of GenerateLivePayment): the attested
 * `billable_units` once the attestation is verified against the session's quote; without one, the
 * request quote's `max_units` (one unit when no quote or no max_units is sent) as a prepayment.
 * The quote sent with a later call is not verified: it only sizes that prepayment, as upstream.
 */
export function usageUnits(
  attestation: UsageAttestation | undefined,
  quote: UsageQuote | undefined,
  lockedQuoteId: string,
  orchestrator: Address,
  recover: PersonalRecover,
): UsageUnits {
  if (attestation !== undefined) {
    verifyUsageAttestation(lockedQuoteId, attestation, orchestrator, recover);
    const units = parseUsageUnits(attestation.billableUnits);
    return { units, billable: ceilUnits(units), attested: true };
  }
  const maxUnits =
    quote !== undefined && quote.maxUnits.trim() !== '' ? quote.maxUnits : DEFAULT_USAGE_MAX_UNITS;
  const units = prefixed('invalid quote max_units', () => parseUsageUnits(maxUnits));
  const billable = ceilUnits(units);
  return { units, billable: billable > 0n ? billable : 1n, attested: false };
}

/** go-livepeer's `calculateFeeRat`: exact units × pricePerUnit / pixelsPerUnit. */
export function usageFee(units: Rational, initialPrice: UnitPrice): Rational {
  if (initialPrice.pricePerUnit <= 0n || initialPrice.pixelsPerUnit <= 0n) {
    throw invalidInput('missing or zero priceInfo');
  }
  return units.mul(Rational.of(initialPrice.pricePerUnit, initialPrice.pixelsPerUnit));
}
