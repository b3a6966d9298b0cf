import { existsSync, readFileSync } from 'node:fs';
import { capabilityModelsCodec } from '#app/proto';
import { AI_PIPELINE_CAPABILITY, parseDecimal, Rational } from '#app/ticket';
import { goFields, parseGoJson } from './go-json.js';

/** The model name that prices every model of a pipeline without a price of its own. */
const DEFAULT_MODEL = 'default';

/** Maximum prices (wei per unit) by capability number, then model name. */
export type CapabilityMaxPrices = ReadonlyMap<number, ReadonlyMap<string, Rational>>;

/** A JSONRat as go-livepeer reads one: a JSON number or a string, decimal or `a/b`. */
function positiveRat(value: unknown, field: string): Rational {
  if (typeof value !== 'string') throw new Error(`${field} must be a number or a string`);
  const fraction = /^\s*(\d+)\/(\d+)\s*$/.exec(value);
  if (fraction && BigInt(fraction[2]) === 0n) throw new Error(`${field} has a zero denominator`);
  const rat = fraction ? Rational.of(BigInt(fraction[1]), BigInt(fraction[2])) : parseDecimal(value, field);
  if (rat.sign() <= 0) throw new Error(`${field} must be positive`);
  return rat;
}

/**
 * go-livepeer's `-maxPricePerCapability`: a path to a JSON file, or the JSON itself,
 * `{"capabilities_prices": [{"pipeline", "model_id", "price_per_unit", "pixels_per_unit",
 * "currency"}]}`; a missing `model_id` prices every model of the pipeline (`default`). Only wei
 * prices are taken (go-livepeer converts USD ones with a price feed this service does not run).
 */
export function parseCapabilityMaxPrices(raw: string): CapabilityMaxPrices {
  const text = existsSync(raw) ? readFileSync(raw, 'utf8') : raw;
  let doc: unknown;
  try {
    doc = parseGoJson(text);
  } catch (err) {
    throw new Error(`not JSON (nor a readable file): ${(err as Error).message}`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new Error('expected a JSON object');
  // Go matches the key in any case, the last one winning.
  const list: unknown = Object.entries(doc as Record<string, unknown>)
    .filter(([key]) => key.toLowerCase() === 'capabilities_prices')
    .at(-1)?.[1];
  if (!Array.isArray(list)) throw new Error('expected "capabilities_prices": [ … ]');
  const out = new Map<number, Map<string, Rational>>();
  list.forEach((item: unknown, i) => {
    const at = `capabilities_prices[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new Error(`${at} must be an object`);
    const get = goFields(item);
    const pipeline = get('pipeline', 'string');
    const capability = typeof pipeline === 'string' ? AI_PIPELINE_CAPABILITY[pipeline] : undefined;
    if (capability === undefined) {
      throw new Error(`${at}.pipeline must be one of ${Object.keys(AI_PIPELINE_CAPABILITY).join(', ')}`);
    }
    const model = get('model_id', 'string') ?? '';
    if (typeof model !== 'string') throw new Error(`${at}.model_id must be a string`);
    const currency = get('currency', 'string') ?? '';
    if (typeof currency !== 'string' || !['', 'wei'].includes(currency.toLowerCase())) {
      throw new Error(`${at}.currency must be WEI (USD prices need go-livepeer's price feed)`);
    }
    const price = positiveRat(get('price_per_unit', 'number'), `${at}.price_per_unit`);
    const pixels = positiveRat(get('pixels_per_unit', 'number'), `${at}.pixels_per_unit`);
    const models = out.get(capability) ?? new Map<string, Rational>();
    models.set(model === '' ? DEFAULT_MODEL : model, price.div(pixels));
    out.set(capability, models);
  });
  return out;
}

/**
 * The configured maximum price for a payment whose request names `capabilities` (a protobuf
 * `net.Capabilities`), as go-livepeer's GetCapabilitiesMaxPrice: the sum, over every model the
 * request's per-capability constraints name, of that model's price (else its pipeline's
 * `default`); when none is priced, the global maximum.
 */
export function capabilitiesMaxPrice(
  prices: CapabilityMaxPrices,
  capabilities: Uint8Array,
  global: Rational | undefined,
): Rational | undefined {
  if (prices.size === 0 || capabilities.length === 0) return global;
  let sum = Rational.ZERO;
  for (const { capability, models } of capabilityModelsCodec.decode(capabilities)) {
    for (const model of models) {
      const price = modelMaxPrice(prices, capability, model);
      if (price) sum = sum.add(price);
    }
  }
  return sum.sign() > 0 ? sum : global;
}

/** The configured maximum price of one model of a pipeline: its own, else its pipeline's `default`. */
export function modelMaxPrice(
  prices: CapabilityMaxPrices,
  capability: number,
  model: string,
): Rational | undefined {
  const priced = prices.get(capability);
  return priced?.get(model) ?? priced?.get(DEFAULT_MODEL);
}
