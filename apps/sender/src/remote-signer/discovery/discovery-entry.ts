import { capabilityModelsCodec, type OrchestratorInfo } from '#app/proto';
import {
  AI_PIPELINE_CAPABILITY,
  BYOC_CAPABILITY,
  pricePerPixel,
  type PriceInfo,
  type Rational,
} from '#app/ticket';
import type { LiveRunner } from './live-runners.js';

/** One orchestrator as `GET /discover-orchestrators` lists it (go-livepeer's JSON field names). */
export interface DiscoveredOrchestrator {
  /** O's own service URL (`OrchestratorInfo.transcoder`), where gateways reach it. */
  address: string;
  score: number;
  /**
   * `<pipeline>/<model>` for each model O prices within the ceilings, and the app of each of its
   * live runners listed, sorted.
   */
  capabilities: string[];
  /** Its live runners (from its `/discovery`), when it lists any. */
  runners?: LiveRunner[];
}

/** The score go-livepeer gives every orchestrator it lists (a field left from its webhook pool). */
export const LISTED_SCORE = 1;

/** Capability ids to the names discovery uses: go-livepeer's capability names, kebab-cased. */
const CAPABILITY_SLUGS: ReadonlyMap<number, string> = new Map([
  ...Object.entries(AI_PIPELINE_CAPABILITY).map(([slug, id]) => [id, slug] as const),
  [BYOC_CAPABILITY, 'byoc'],
]);

/** The highest price (wei per unit) accepted for one model of a capability; undefined: any. */
export type ModelCeiling = (capability: number, model: string) => Rational | undefined;

export type JudgedOrchestrator = { entry: DiscoveredOrchestrator } | { refused: string };

/**
 * Whether and how an orchestrator's GetOrchestrator reply is listed, as go-livepeer's remote
 * discovery decides: it needs a service URL, and each model its capabilities name is listed when
 * it has a price within the ceiling: its own `capabilities_prices` entry (one with pixelsPerUnit
 * 0 does not count), else the global one, needed only then. An orchestrator with no such model is
 * not listed. Transcoding carries no per-model constraints, so it never shows here. One rule of
 * ours on top: a reply without a ticket recipient address is not listed, as nothing could pay it.
 */
export function judgeOrchestrator(
  info: OrchestratorInfo,
  capabilityPrices: readonly PriceInfo[],
  ceiling: ModelCeiling,
): JudgedOrchestrator {
  if (info.address.length === 0) return { refused: 'no ticket recipient address' };
  const global = perUnit(info.priceInfo);
  if (!isServiceUrl(info.transcoder)) {
    return { refused: `service URL ${JSON.stringify(info.transcoder.slice(0, 200))} is not an http(s) URL` };
  }
  let named: ReturnType<typeof capabilityModelsCodec.decode>;
  try {
    named = capabilityModelsCodec.decode(info.capabilities);
  } catch {
    return { refused: 'malformed capabilities' };
  }
  const capabilities: string[] = [];
  let priced = 0;
  for (const { capability, models } of named) {
    const slug = CAPABILITY_SLUGS.get(capability);
    if (slug === undefined) continue;
    for (const model of models) {
      const own = capabilityPrices.find(
        (p) => p.capability === capability && p.constraint === model && p.pixelsPerUnit > 0n,
      );
      const price = own ? perUnit(own) : global;
      if (price === undefined) continue;
      priced++;
      const max = ceiling(capability, model);
      if (max !== undefined && price.cmp(max) > 0) continue;
      capabilities.push(`${slug}/${model}`);
    }
  }
  if (capabilities.length === 0) {
    return {
      refused:
        priced === 0 && global === undefined ? 'no valid price' : 'no capability priced within the ceilings',
    };
  }
  capabilities.sort();
  return { entry: { address: info.transcoder, score: LISTED_SCORE, capabilities } };
}

/**
 * The listed orchestrators that offer any of `caps` (exact names, as go-livepeer matches them),
 * in the order of `caps`, each once; all of them when `caps` is empty.
 */
export function offering(
  listed: readonly DiscoveredOrchestrator[],
  caps: readonly string[],
): DiscoveredOrchestrator[] {
  if (caps.length === 0) return [...listed];
  const out = new Set<DiscoveredOrchestrator>();
  for (const cap of caps) {
    for (const o of listed) if (o.capabilities.includes(cap)) out.add(o);
  }
  return [...out];
}

/** The price per unit by the protocol's rule (pricePerPixel), or undefined where it refuses it. */
function perUnit(price: PriceInfo | undefined): Rational | undefined {
  try {
    return pricePerPixel(price);
  } catch {
    return undefined;
  }
}

function isServiceUrl(raw: string): boolean {
  if (!/^https?:\/\//i.test(raw)) return false;
  try {
    return new URL(raw).host !== '';
  } catch {
    return false;
  }
}
