import { bytesToHex, keccak256, nobleBackend, personalDigest } from '#app/ticket';

/*
 * The orchestrator side of go-livepeer's `usage` payments, for tests: a quote it hands a gateway
 * (in its 402 challenge) and attestations of realized usage, each signed as go-livepeer's
 * orchestrator signs them: the EIP-191 personal-sign of keccak256(Go `json.Marshal` of the
 * object without `orch_sig`), hex with `0x`. Written from the wire definition
 * (docs/remote-signer.md §3.8), with its own JSON writer; it shares no code with the Sender's
 * verification (libs/ticket usage-quote.ts).
 */

/** A quote as JSON members, in go-livepeer's field order. Numbers are JSON literals as text. */
export interface WireQuote {
  quote_id: string;
  app: string;
  manifest_id: string;
  /** json.Number: the literal as it is written. */
  sell_price: string;
  sell_unit: string;
  upcharge_bps: number;
  wei_price_per_unit: number;
  wei_pixels_per_unit: number;
  max_units: string;
  expires_at: number;
}

export interface WireAttestation {
  quote_id: string;
  billable_units: string;
  sell_price: string;
  cost_wei: string;
}

/** Go writes `<`, `>`, `&`, U+2028 and U+2029 escaped in strings; the rest as JSON.stringify does. */
function goString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Go's `json.Marshal` of the struct: members in order, strings and numbers as Go writes them. */
export function quoteJson(q: WireQuote): string {
  return (
    `{"quote_id":${goString(q.quote_id)},"app":${goString(q.app)},"manifest_id":${goString(q.manifest_id)},` +
    `"sell_price":${q.sell_price || '0'},"sell_unit":${goString(q.sell_unit)},"upcharge_bps":${q.upcharge_bps},` +
    `"wei_price_per_unit":${q.wei_price_per_unit},"wei_pixels_per_unit":${q.wei_pixels_per_unit},` +
    `"max_units":${q.max_units || '0'},"expires_at":${q.expires_at}}`
  );
}

export function attestationJson(a: WireAttestation): string {
  return (
    `{"quote_id":${goString(a.quote_id)},"billable_units":${a.billable_units || '0'},` +
    `"sell_price":${a.sell_price || '0'},"cost_wei":${goString(a.cost_wei)}}`
  );
}

/** go-livepeer's orchestrator signature over `json`: `0x` + r‖s‖v of personal-sign(keccak256). */
export function orchSign(json: string, orchestratorKey: Uint8Array): string {
  const digest = personalDigest(keccak256(new TextEncoder().encode(json)));
  return bytesToHex(nobleBackend.sign(digest, orchestratorKey));
}

/**
 * The quote object a gateway forwards in `/generate-live-payment`, signed by `orchestratorKey`.
 * Numbers are sent as JSON numbers (their literal text), as go-livepeer's orchestrator writes them.
 */
export function signedQuote(q: WireQuote, orchestratorKey: Uint8Array): string {
  const json = quoteJson(q);
  return `${json.slice(0, -1)},"orch_sig":${goString(orchSign(json, orchestratorKey))}}`;
}

export function signedAttestation(a: WireAttestation, orchestratorKey: Uint8Array): string {
  const json = attestationJson(a);
  return `${json.slice(0, -1)},"orch_sig":${goString(orchSign(json, orchestratorKey))}}`;
}
