import { bytesToHex, hexToBytes, uint256Bytes } from './bytes.js';
import { ADDRESS_LENGTH, HASH_LENGTH, MAX_SENDER_NONCE } from './constants.js';
import { invalidInput } from './errors.js';
import { keccak256 } from './keccak.js';
import { Rational } from './rational.js';
import { toChecksumAddress } from './address.js';
import type { Address, PriceInfo } from './types.js';

/*
 * The arithmetic and state rules of go-livepeer's remote signer (`/generate-live-payment`, see
 * docs/remote-signer.md): billable units per job type, the fee at the session's initial price,
 * how many tickets bring the balance up to the fee, and the JSON state blob the gateway carries.
 * Pure: no clock, no I/O; the caller passes `now`.
 */

/**
 * Job types: `''` bills `inPixels` as given; `byoc` bills compute seconds of a BYOC capability;
 * `byoc-request` (the Python SDK's BYOC request session) bills `inPixels` as seconds prepaid at the
 * OrchestratorInfo's `price_info`; `usage` bills what an orchestrator-signed quote and usage
 * attestations say (usage-quote.ts), not elapsed time.
 */
export type RemotePaymentType = '' | 'live' | 'lv2v' | 'fixed' | 'byoc' | 'byoc-request' | 'usage';

const TYPES: ReadonlySet<string> = new Set(['', 'live', 'lv2v', 'fixed', 'byoc', 'byoc-request', 'usage']);

/** go-livepeer's tickets-per-call cap: guards both the deposit and the signer's time. */
export const MAX_REMOTE_TICKETS = 100;
/** A live session's first call prepays 10 s, lv2v's 60 s (go-livepeer). */
export const LIVE_PREPAID_MS = 10_000n;
export const LV2V_PREPAID_MS = 60_000n;
/** lv2v bills a nominal 1280×720 at 30 fps. */
export const LV2V_PIXELS_PER_SECOND = 1280n * 720n * 30n;
/** Largest `inPixels` taken (a JSON number is exact up to 2^53 − 1). */
export const MAX_IN_PIXELS = BigInt(Number.MAX_SAFE_INTEGER);
/** go-livepeer's capability id of BYOC jobs (`Capability_BYOC`) in `capabilities_prices`. */
export const BYOC_CAPABILITY = 37;
/** go-livepeer's AI pipeline names and their capability ids (`core.PipelineToCapability`). */
export const AI_PIPELINE_CAPABILITY: Readonly<Record<string, number>> = {
  'text-to-image': 27,
  'image-to-image': 28,
  'image-to-video': 29,
  upscale: 30,
  'audio-to-text': 31,
  'segment-anything-2': 32,
  llm: 33,
  'image-to-text': 34,
  'live-video-to-video': 35,
  'text-to-speech': 36,
};
/** A BYOC session's first call prepays the job's timeout, at least the 60 s O requires as balance. */
export const BYOC_MIN_PREPAID_SECONDS = 60n;

/** What BYOC billing needs beside the elapsed time (go-livepeer's `byoc` remote payment type). */
export interface ByocBilling {
  /** pixelsPerUnit of the capability's price: one compute second is this many units. */
  pixelsPerUnit: bigint;
  /** The request's `timeoutSeconds` (0 when absent): the first call's prepaid seconds, floored at 60. */
  timeoutSeconds: bigint;
}

export function parseRemotePaymentType(raw: unknown): RemotePaymentType {
  const type = raw ?? '';
  if (typeof type !== 'string' || !TYPES.has(type)) throw invalidInput('invalid job type');
  return type as RemotePaymentType;
}

/**
 * Units to charge for this call. `elapsedMs` is the time since the state's last charged call
 * (≤ 0 on a session's first call, which prepays). Exact integer arithmetic on whole milliseconds.
 * `usage` units are exact rationals from a quote or an attestation instead (usageUnits).
 */
export function billableUnits(
  type: Exclude<RemotePaymentType, 'usage'>,
  elapsedMs: bigint,
  inPixels: bigint,
  byoc?: ByocBilling,
): bigint {
  switch (type) {
    case 'byoc': {
      if (!byoc || byoc.pixelsPerUnit <= 0n)
        throw invalidInput('missing or zero priceInfo for BYOC capability');
      const prepaid =
        byoc.timeoutSeconds > BYOC_MIN_PREPAID_SECONDS ? byoc.timeoutSeconds : BYOC_MIN_PREPAID_SECONDS;
      const seconds = elapsedMs > 0n ? (elapsedMs + 999n) / 1000n : prepaid;
      return seconds * byoc.pixelsPerUnit;
    }
    case 'live': {
      const ms = elapsedMs > 0n ? elapsedMs : LIVE_PREPAID_MS;
      return (ms + 999n) / 1000n;
    }
    case 'lv2v': {
      const ms = elapsedMs > 0n ? elapsedMs : LV2V_PREPAID_MS;
      return (LV2V_PIXELS_PER_SECOND * ms) / 1000n;
    }
    case 'fixed':
      return 1n;
    case '':
      if (inPixels <= 0n) throw invalidInput('missing billable unit or job type');
      if (inPixels > MAX_IN_PIXELS) throw invalidInput(`inPixels must not exceed ${MAX_IN_PIXELS}`);
      return inPixels;
    case 'byoc-request':
      // The SDK's compute budget: seconds to prefund, each one unit of the job token's price.
      if (inPixels <= 0n) throw invalidInput('byoc-request requires positive inPixels (seconds to prefund)');
      if (inPixels > MAX_IN_PIXELS) throw invalidInput(`inPixels must not exceed ${MAX_IN_PIXELS}`);
      return inPixels;
  }
}

export interface UnitPrice {
  pricePerUnit: bigint;
  pixelsPerUnit: bigint;
}

/** wei per billable unit; both parts must be positive. */
export function unitPrice(price: UnitPrice): Rational {
  if (price.pricePerUnit <= 0n || price.pixelsPerUnit <= 0n) throw invalidInput('missing or zero priceInfo');
  return Rational.of(price.pricePerUnit, price.pixelsPerUnit);
}

/** go-livepeer's `calculateFee`: units × pricePerUnit / pixelsPerUnit, at the session's initial price. */
export function remoteFee(units: bigint, initialPrice: UnitPrice): Rational {
  return unitPrice(initialPrice).mul(Rational.of(units));
}

/**
 * go-livepeer's `Balance.StageUpdate`: the credit O must hold after this call is at least
 * max(fee, ev); the tickets needed to lift `balance` there, 0 when it already is.
 */
export function ticketsNeeded(balance: Rational, fee: Rational, ev: Rational): bigint {
  if (ev.sign() <= 0) throw invalidInput('ticket EV must be positive');
  const minCredit = fee.cmp(ev) < 0 ? ev : fee;
  if (balance.cmp(minCredit) >= 0) return 0n;
  return minCredit.sub(balance).div(ev).ceil();
}

/** The balance after `numTickets` of `ev` were paid and `fee` charged. */
export function balanceAfter(balance: Rational, numTickets: bigint, ev: Rational, fee: Rational): Rational {
  return balance.add(ev.mul(Rational.of(numTickets))).sub(fee);
}

/** Go `big.Rat.RatString()`: `a/b`, or `a` when the denominator is 1. */
export function ratString(value: Rational): string {
  return value.den === 1n ? value.num.toString() : `${value.num}/${value.den}`;
}

/** A state's `Balance` (ticketpay bounds; Go's `big.Rat` takes any): its characters, its digits a side. */
const MAX_BALANCE_CHARS = 256;
const MAX_BALANCE_DIGITS = 200;
const RAT_STRING = new RegExp(`^(-?\\d{1,${MAX_BALANCE_DIGITS}})(?:/(\\d{1,${MAX_BALANCE_DIGITS}}))?$`);

/**
 * A state's `Balance` as the exact rational it writes (`a` or `a/b`, as `ratString`), within the
 * bounds above: the one rule for what a state may hold, which decodeRemoteState reads with and
 * stateBalanceText writes with.
 */
export function parseRatString(raw: string): Rational {
  if (raw.length > MAX_BALANCE_CHARS) {
    throw invalidInput(`balance must be at most ${MAX_BALANCE_CHARS} characters`);
  }
  const m = RAT_STRING.exec(raw);
  if (!m) {
    throw invalidInput(
      `balance must be an integer or a fraction a/b of at most ${MAX_BALANCE_DIGITS} digits each`,
    );
  }
  const den = m[2] === undefined ? 1n : BigInt(m[2]);
  if (den === 0n) throw invalidInput('balance has a zero denominator');
  return Rational.of(BigInt(m[1]), den);
}

/**
 * The `Balance` a state is written with (`ratString`), refused (INVALID_INPUT) when
 * decodeRemoteState would not read it back (parseRatString): the session's next call would fail
 * on its own state, and the credit it holds would be stranded. Exact rational usage units can
 * make such a balance (a denominator of 10^150 from `1e-150` units).
 */
export function stateBalanceText(balance: Rational): string {
  const text = ratString(balance);
  try {
    parseRatString(text);
  } catch (err) {
    throw invalidInput(
      `the new balance (${text.length} characters) cannot be kept in the state: ${(err as Error).message}`,
    );
  }
  return text;
}

/** One price ceiling and where it comes from (for the error message). */
export interface PriceCeiling {
  source: string;
  price: Rational | undefined;
}

/** The lowest ceiling `price` exceeds, or undefined when it is within all of them. */
export function exceededCeiling(
  price: Rational,
  ceilings: readonly PriceCeiling[],
): PriceCeiling | undefined {
  let lowest: PriceCeiling | undefined;
  for (const c of ceilings) {
    if (c.price !== undefined && (lowest === undefined || c.price.cmp(lowest.price!) < 0)) lowest = c;
  }
  return lowest !== undefined && price.cmp(lowest.price!) > 0 ? lowest : undefined;
}

/**
 * The `maxPrice.unit` of a usage payment: go-livepeer's `runner.LiveRunnerPaymentUnitUsage`, whose
 * value is in none of the stored upstream sources. Upstream compares the lowercased unit with it,
 * so it is lowercase; `usage` is the spelling its runner price units use (unconfirmed).
 */
export const USAGE_MAX_PRICE_UNIT = 'usage';

const MAX_PRICE_UNIT: Record<RemotePaymentType, string | undefined> = {
  live: 'seconds',
  lv2v: '720p-pixel-seconds',
  fixed: 'fixed',
  usage: USAGE_MAX_PRICE_UNIT,
  // No unit is defined upstream for a BYOC ceiling: refused rather than guessed.
  byoc: undefined,
  'byoc-request': undefined,
  '': undefined,
};

/** A JSON number literal (RFC 8259), as a sticky pattern: `lastIndex` is where it must start. */
const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** The length of the JSON number literal at `at` in `text`, the longest there; 0 when none starts there. */
export function jsonNumberLength(text: string, at = 0): number {
  JSON_NUMBER.lastIndex = at;
  return JSON_NUMBER.exec(text)?.[0].length ?? 0;
}

/** Whether `text` is a JSON number literal, as Go requires of a `json.Number`. */
export function isJsonNumber(text: string): boolean {
  return text !== '' && jsonNumberLength(text) === text.length;
}

/**
 * A decimal as Go's `big.Rat.SetString` takes it: an optional `-`, digits, an optional fraction
 * and an optional exponent (`1e-07` is how Python writes a small float). Each digit run is at
 * most 78 digits and the exponent within ±200 (ticketpay bounds; Go takes any), so that a request
 * cannot make us build a huge integer.
 */
const DECIMAL = /^(-?)(\d{1,78})(?:\.(\d{1,78}))?(?:[eE]([+-]?\d{1,3}))?$/;
export const MAX_DECIMAL_EXPONENT = 200;

/** What readDecimal takes beside the digits: a leading `-`; only a JSON number literal (no `01`). */
export interface DecimalSyntax {
  signed: boolean;
  jsonNumber: boolean;
}

/** Why readDecimal refused a text: not in its syntax (bounds included), or an exponent past ±200. */
export type DecimalRefusal = 'syntax' | 'exponent';

/**
 * `text` (already trimmed) as an exact rational, or why it is refused; each caller words its own
 * refusal (a maxPrice's, go-livepeer's `ParsePositiveRat`'s).
 */
export function readDecimal(text: string, syntax: DecimalSyntax): Rational | DecimalRefusal {
  const m = !syntax.jsonNumber || isJsonNumber(text) ? DECIMAL.exec(text) : null;
  if (!m || (m[1] === '-' && !syntax.signed)) return 'syntax';
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  if (Math.abs(exponent) > MAX_DECIMAL_EXPONENT) return 'exponent';
  const frac = m[3] ?? '';
  const scale = exponent - frac.length;
  const digits = BigInt(m[1] + m[2] + frac);
  return scale >= 0 ? Rational.of(digits * 10n ** BigInt(scale)) : Rational.of(digits, 10n ** BigInt(-scale));
}

/** A positive decimal (JSON number or string, Go number syntax) as an exact rational. */
export function parseDecimal(raw: unknown, field: string): Rational {
  const text = typeof raw === 'number' ? (Number.isFinite(raw) ? String(raw) : '') : raw;
  const value =
    typeof text === 'string' ? readDecimal(text.trim(), { signed: false, jsonNumber: false }) : 'syntax';
  if (typeof value === 'string' || value.sign() <= 0)
    throw invalidInput(`${field} must be a positive decimal`);
  return value;
}

/**
 * A `maxPrice` object (request or auth webhook, go-livepeer PR #4014): `{price, currency: "wei",
 * unit}` with the unit of the job type. Undefined when absent.
 */
export function parseMaxPrice(raw: unknown, type: RemotePaymentType): Rational | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidInput('maxPrice must be an object');
  const { price, currency, unit } = raw as Record<string, unknown>;
  const value = parseDecimal(
    typeof price === 'string' || typeof price === 'number' ? price : '',
    'maxPrice.price',
  );
  if (typeof currency !== 'string' || currency.trim().toLowerCase() !== 'wei') {
    throw invalidInput('maxPrice.currency must be wei');
  }
  const expected = MAX_PRICE_UNIT[type];
  if (expected === undefined)
    throw invalidInput('maxPrice requires payment type live, lv2v, fixed, or usage');
  if (typeof unit !== 'string' || unit.trim().toLowerCase() !== expected) {
    throw invalidInput(`maxPrice.unit must be ${expected} for payment type ${type}`);
  }
  return value;
}

/**
 * The BYOC capability a payment is for: the request's ManifestID (go-livepeer's BYOC signer), else
 * its `capability` (all the Python SDK's BYOC client sends), else the constraint of a BYOC
 * `price_info` (the byoc-v2 signer lineage); empty when nothing names one.
 */
export function byocCapabilityName(
  manifestId: string,
  requested: string,
  priceInfo: PriceInfo | undefined,
): string {
  if (manifestId !== '') return manifestId;
  if (requested !== '') return requested;
  return priceInfo?.capability === BYOC_CAPABILITY ? priceInfo.constraint : '';
}

/**
 * The price of a BYOC payment (go-livepeer `resolvePriceInfo` for type `byoc`): the first of
 * `price_info` and `capabilities_prices` whose capability is BYOC, whose constraint is the
 * capability name (the request's ManifestID) and whose parts are both non-zero.
 */
export function byocPrice(
  priceInfo: PriceInfo | undefined,
  capabilityPrices: readonly PriceInfo[],
  capabilityName: string,
): PriceInfo {
  if (capabilityName === '') throw invalidInput('missing manifestID for BYOC capability');
  const candidates = priceInfo ? [priceInfo, ...capabilityPrices] : capabilityPrices;
  const found = candidates.find(
    (p) =>
      p.pricePerUnit !== 0n &&
      p.pixelsPerUnit !== 0n &&
      p.capability === BYOC_CAPABILITY &&
      p.constraint === capabilityName,
  );
  if (!found) {
    throw invalidInput(
      `missing or zero priceInfo for BYOC capability ${JSON.stringify(capabilityName)}; the orchestrator ` +
        `must advertise capabilities_prices with capability ${BYOC_CAPABILITY} and constraint = the capability name`,
    );
  }
  return found;
}

/** keccak256 of an empty segment: the `hash` of a live payment's segment credentials. */
export const EMPTY_SEGMENT_HASH = keccak256(new Uint8Array(0));

/**
 * go-livepeer's `SegTranscodingMetadata.Flatten()` with no profiles: manifestId ‖ u256(seq) ‖
 * hash. The segment credentials' signature is over its keccak256.
 */
export function segmentFlatten(manifestId: string, seq: bigint, hash: Uint8Array): Uint8Array {
  if (hash.length !== HASH_LENGTH) throw invalidInput('segment hash must be 32 bytes');
  const id = new TextEncoder().encode(manifestId);
  const out = new Uint8Array(id.length + 32 + HASH_LENGTH);
  out.set(id, 0);
  out.set(uint256Bytes(seq), id.length);
  out.set(hash, id.length + 32);
  return out;
}

/** The payload of the orchestrator-info signature: the EIP-55 address string's ASCII bytes. */
export function orchestratorInfoPayload(address: Address): Uint8Array {
  return new TextEncoder().encode(toChecksumAddress(address));
}

/** The session state the gateway carries between calls (docs/remote-signer.md §3.5). */
export interface RemotePaymentState {
  stateId: string;
  /** `0x` + hex of the recipientRandHash the last tickets used; empty before the first. */
  pmSessionId: string;
  /** Unix ms of the last charged call; undefined before the first. */
  lastUpdateMs: number | undefined;
  orchestrator: Address;
  app: string;
  /** Unix seconds until which the webhook's authorization holds; 0 = none. */
  authExpiry: number;
  senderNonce: number;
  balance: Rational;
  initialPrice: UnitPrice;
  type: RemotePaymentType;
  sequenceNumber: number;
  authId: string;
  /** `usage`: the locked quote's id, its sell unit and upcharge (go-livepeer; empty/0 otherwise). */
  quoteId: string;
  sellUnit: string;
  upchargeBps: number;
  /** ticketpay: the sender account the session's tickets are signed by. */
  sender: Address;
  /** ticketpay: the API client (token name) the session belongs to; empty without tokens. */
  client: string;
}

/** Go's zero `time.Time`, as `encoding/json` writes it. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
/**
 * Go's `time.Time` JSON for a UTC instant: RFC 3339 with the fraction's trailing zeros dropped
 * (`…05.6Z`, `…05Z`), as `encoding/json` writes go-livepeer's `LastUpdate`.
 */
function goTimeJson(ms: number): string {
  const [whole, frac] = new Date(ms).toISOString().slice(0, -1).split('.');
  const digits = frac.replace(/0+$/, '');
  return `${whole}${digits === '' ? '' : `.${digits}`}Z`;
}

/**
 * The longest caller identity a session keeps (the `Signer-Auth-Id` header or a webhook's
 * `auth_id`): room for a JWT or an API key, which go-livepeer takes at any length.
 */
export const MAX_AUTH_ID_CHARS = 8192;

/**
 * States are small but for the caller identity (each of its characters at most 6 bytes of JSON);
 * anything larger is not one of ours. The request's own bound on a state blob is the same.
 */
export const MAX_STATE_BYTES = 64 * 1024;

/**
 * The state's JSON bytes, with go-livepeer's field names and order (so a webhook sees the same
 * object; QuoteID, SellUnit and UpchargeBps are written for every type, as Go writes them) plus
 * ticketpay's `Sender` and `Client`. Integers are written as JSON numbers.
 */
export function encodeRemoteState(s: RemotePaymentState): Uint8Array {
  for (const [name, v] of [
    ['InitialPricePerUnit', s.initialPrice.pricePerUnit],
    ['InitialPixelsPerUnit', s.initialPrice.pixelsPerUnit],
  ] as const) {
    if (v <= 0n || v > MAX_IN_PIXELS) throw invalidInput(`${name} must be between 1 and 2^53 − 1`);
  }
  if (!Number.isSafeInteger(s.upchargeBps)) throw invalidInput('UpchargeBps must be a safe integer');
  const json = {
    StateID: s.stateId,
    PMSessionID: s.pmSessionId,
    LastUpdate: s.lastUpdateMs === undefined ? GO_ZERO_TIME : goTimeJson(s.lastUpdateMs),
    // go-ethereum's Address.MarshalText: lowercase hex, not EIP-55.
    OrchestratorAddress: bytesToHex(s.orchestrator),
    App: s.app,
    AuthExpiry: s.authExpiry,
    SenderNonce: s.senderNonce,
    Balance: stateBalanceText(s.balance),
    InitialPricePerUnit: Number(s.initialPrice.pricePerUnit),
    InitialPixelsPerUnit: Number(s.initialPrice.pixelsPerUnit),
    Type: s.type,
    SequenceNumber: s.sequenceNumber,
    AuthID: s.authId,
    QuoteID: s.quoteId,
    SellUnit: s.sellUnit,
    UpchargeBps: s.upchargeBps,
    Sender: bytesToHex(s.sender),
    Client: s.client,
  };
  if (s.authId.length > MAX_AUTH_ID_CHARS) {
    throw invalidInput(`the caller identity must be at most ${MAX_AUTH_ID_CHARS} characters`);
  }
  // What is written must read back (decodeRemoteState), or the session's next call would fail.
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  if (bytes.length > MAX_STATE_BYTES) throw invalidInput('the state would exceed its size bound');
  return bytes;
}

/** The plain object a webhook receives as `state` (the same fields as the blob). */
export function remoteStateJson(s: RemotePaymentState): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(encodeRemoteState(s))) as Record<string, unknown>;
}

function field<T>(obj: Record<string, unknown>, name: string, check: (v: unknown) => v is T): T {
  const v = obj[name];
  if (!check(v)) throw invalidInput(`state field ${name} is missing or malformed`);
  return v;
}

const isText = (v: unknown): v is string => typeof v === 'string';
const isString = (v: unknown): v is string => isText(v) && v.length <= 256;
const isAuthId = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_AUTH_ID_CHARS;
const isSafeUint = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isSafeInt = (v: unknown): v is number => Number.isSafeInteger(v);

/** A field go-livepeer added later: states sealed before it was written lack it. */
function laterField<T>(
  obj: Record<string, unknown>,
  name: string,
  check: (v: unknown) => v is T,
  absent: T,
): T {
  return obj[name] === undefined ? absent : field(obj, name, check);
}

/** Parses state bytes written by `encodeRemoteState`; throws INVALID_INPUT on anything else. */
export function decodeRemoteState(bytes: Uint8Array): RemotePaymentState {
  if (bytes.length > MAX_STATE_BYTES) throw invalidInput('invalid state');
  let obj: unknown;
  try {
    obj = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw invalidInput('invalid state');
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw invalidInput('invalid state');
  const o = obj as Record<string, unknown>;
  const lastUpdate = field(o, 'LastUpdate', isString);
  const lastUpdateMs = lastUpdate === GO_ZERO_TIME ? undefined : Date.parse(lastUpdate);
  if (lastUpdateMs !== undefined && !Number.isFinite(lastUpdateMs)) throw invalidInput('invalid state');
  const senderNonce = field(o, 'SenderNonce', isSafeUint);
  if (senderNonce > MAX_SENDER_NONCE) throw invalidInput('state field SenderNonce is out of range');
  return {
    stateId: field(o, 'StateID', isString),
    pmSessionId: field(o, 'PMSessionID', isString),
    lastUpdateMs,
    orchestrator: hexToBytes(
      field(o, 'OrchestratorAddress', isString).toLowerCase(),
      'state',
      ADDRESS_LENGTH,
    ),
    app: field(o, 'App', isString),
    authExpiry: field(o, 'AuthExpiry', isSafeUint),
    senderNonce,
    balance: parseRatString(field(o, 'Balance', isText)),
    initialPrice: {
      pricePerUnit: BigInt(field(o, 'InitialPricePerUnit', isSafeUint)),
      pixelsPerUnit: BigInt(field(o, 'InitialPixelsPerUnit', isSafeUint)),
    },
    type: parseRemotePaymentType(field(o, 'Type', isString)),
    sequenceNumber: field(o, 'SequenceNumber', isSafeUint),
    authId: field(o, 'AuthID', isAuthId),
    quoteId: laterField(o, 'QuoteID', isString, ''),
    sellUnit: laterField(o, 'SellUnit', isString, ''),
    upchargeBps: laterField(o, 'UpchargeBps', isSafeInt, 0),
    sender: hexToBytes(field(o, 'Sender', isString), 'state', ADDRESS_LENGTH),
    client: field(o, 'Client', isString),
  };
}

/*
 * BYOC job credentials (`POST /sign-byoc-job`): the gateway's signature over a job request that a
 * BYOC orchestrator checks before it runs the job. go-livepeer signs the "V1" flattening of the
 * five job fields, opened by a 16-byte domain separator so that the bytes can never be taken for
 * another signed message (a ticket, segment credentials, the orchestrator-info address).
 */

/** `LP_BYOC_JOB_V1` and two zero bytes: the V1 format's domain separator (16 bytes). */
export const BYOC_JOB_DOMAIN_V1 = new Uint8Array([...new TextEncoder().encode('LP_BYOC_JOB_V1'), 0, 0]);
/** timeout_seconds is written as an unsigned 32-bit integer. */
export const MAX_BYOC_TIMEOUT_SECONDS = 0xffff_ffff;

/** The signed fields of a BYOC job request (go-livepeer `BYOCJobSigningInput`). */
export interface ByocJobSigningInput {
  id: string;
  capability: string;
  request: string;
  parameters: string;
  timeoutSeconds: number;
}

/**
 * The V1 byte string: domain ‖ (u32 length ‖ UTF-8) for id, capability, request, parameters, in
 * that order ‖ u32 timeout_seconds; integers big-endian. The length prefixes keep field
 * boundaries unambiguous (`"ab"+"c"` and `"a"+"bc"` flatten differently). See
 * docs/remote-signer.md §2a for what of this layout is confirmed upstream.
 */
export function flattenByocJob(job: ByocJobSigningInput): Uint8Array {
  if (!Number.isInteger(job.timeoutSeconds) || job.timeoutSeconds <= 0) {
    throw invalidInput('sign-byoc-job requires positive timeout_seconds');
  }
  if (job.timeoutSeconds > MAX_BYOC_TIMEOUT_SECONDS) {
    throw invalidInput(`timeout_seconds must not exceed ${MAX_BYOC_TIMEOUT_SECONDS}`);
  }
  const enc = new TextEncoder();
  const parts = [job.id, job.capability, job.request, job.parameters].map((s) => enc.encode(s));
  const size = BYOC_JOB_DOMAIN_V1.length + parts.reduce((n, p) => n + 4 + p.length, 0) + 4;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(BYOC_JOB_DOMAIN_V1, 0);
  let at = BYOC_JOB_DOMAIN_V1.length;
  for (const p of parts) {
    view.setUint32(at, p.length, false);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  view.setUint32(at, job.timeoutSeconds, false);
  return out;
}

/*
 * The legacy BYOC job signature (go-livepeer's embedded-key `gatewayJob.sign()`, and what the
 * Python SDK's `sign_byoc_job` asks a signer for): the personal-sign of keccak256 of the UTF-8
 * bytes of `request + parameters`, with no separator and no domain. That makes it an oracle for
 * any UTF-8 byte string, so the signer refuses the payloads that could pass for another message
 * the account signs with the same primitive.
 */

/** The legacy payload: the UTF-8 bytes of `request + parameters` (Go string concatenation). */
export function legacyByocJobPayload(request: string, parameters: string): Uint8Array {
  return new TextEncoder().encode(request + parameters);
}

/**
 * Why `payload` must not be legacy-signed by `account`, or undefined when it may:
 * - it holds the account's 20 raw address bytes, as every ticket's packed encoding does (bytes
 *   20..40), so the signature could be a ticket signature that no nonce counter or budget saw;
 * - it decodes as a remote-signer state, so in signature-seal mode (no state secret) the signature
 *   would seal a state of the caller's making (an authorisation expiry the webhook never gave).
 * Orchestrator-info and segment-credential payloads need no check: the first is public, the
 * second authorises only the caller's own segments.
 */
export function legacyByocPayloadFault(payload: Uint8Array, account: Address): string | undefined {
  if (indexOfBytes(payload, account) >= 0) {
    return "the payload contains the signing account's address bytes (it could be a ticket)";
  }
  try {
    decodeRemoteState(payload);
  } catch {
    return undefined;
  }
  return 'the payload is a remote-signer state';
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
