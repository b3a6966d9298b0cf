import { isJsonNumber, parseDecimal, type Rational } from '#app/ticket';
import { goFields, goJsonText, NumberText, parseGoJson, type GoKind } from '../go-json.js';
import { LISTED_SCORE, type DiscoveredOrchestrator } from './discovery-entry.js';

/**
 * A live runner as go-livepeer's remote discovery lists it (`runner.LiveRunnerDiscoveryRunner`,
 * its JSON names, in its order): an app an orchestrator serves through its own URL, one runner
 * (GPU) at a time. Optional members are left out when empty, as Go's `omitempty`.
 */
export interface LiveRunner {
  url: string;
  gpu?: { id?: string; name?: string; vram_mb?: bigint };
  app: string;
  version?: string;
  mode?: string;
  capacity: bigint;
  capacity_used: bigint;
  capacity_available: bigint;
  price_info?: { price: NumberText; currency: string; unit: string };
}

/** One entry of an orchestrator's `GET /discovery` reply: a node's address and its runners. */
export interface RunnerNode {
  address: string;
  runners: LiveRunner[];
}

/** Runner price units go-livepeer's discovery takes (per second, per 720p-pixel-second). */
const RUNNER_PRICE_UNITS = new Set(['seconds', '720p-pixel-seconds']);

/** A member of the reply whose JSON type Go refuses for its field: the whole reply is dropped. */
class Mistyped extends Error {}

/**
 * An orchestrator's `GET /discovery` reply as go-livepeer decodes it (`[]remoteDiscoveryEntry`):
 * a JSON array (or null) of `{address, runners[]}`, field names in any case, unknown ones
 * ignored. As Go's `json.Unmarshal` into those structs, a member of the wrong type anywhere
 * (a string capacity, `1.5` for an integer, …) drops the whole reply. Throws Error then.
 */
export function readRunnerDiscovery(text: string): RunnerNode[] {
  const parsed = parseGoJson(text);
  if (parsed === null) return [];
  if (!Array.isArray(parsed)) throw new Mistyped('the reply is not a JSON array');
  return parsed.filter((e) => e !== null).map(node);
}

function node(raw: unknown): RunnerNode {
  const get = fields(raw, 'an entry');
  const list = get('runners', 'array') as unknown[] | undefined;
  return {
    address: (get('address', 'string') as string | undefined) ?? '',
    runners: (list ?? []).map(runner),
  };
}

function runner(raw: unknown): LiveRunner {
  const get = fields(raw, 'a runner');
  const gpu = get('gpu', '*struct-or-int');
  const version = str(get('version', 'string'));
  const mode = str(get('mode', 'string'));
  const price = get('price_info', '*struct');
  // Members in Go's order (the struct's), the empty optional ones left out (omitempty).
  return {
    url: str(get('url', 'string')),
    ...(gpu !== undefined && gpu !== null ? { gpu: runnerGpu(gpu) } : {}),
    app: str(get('app', 'string')),
    ...(version !== '' ? { version } : {}),
    ...(mode !== '' ? { mode } : {}),
    capacity: int(get('capacity', 'int')),
    capacity_used: int(get('capacity_used', 'int')),
    capacity_available: int(get('capacity_available', 'int')),
    ...(price !== undefined && price !== null ? { price_info: runnerPrice(price) } : {}),
  };
}

function runnerPrice(raw: unknown): NonNullable<LiveRunner['price_info']> {
  const get = fields(raw, 'a price_info');
  const amount = get('price', 'number') as string | undefined;
  // Go's json.Number takes a JSON string only when it holds a number literal.
  if (amount !== undefined && !isJsonNumber(amount)) throw new Mistyped('a price is not a number');
  return {
    price: new NumberText(amount ?? ''),
    currency: str(get('currency', 'string')),
    unit: str(get('unit', 'string')),
  };
}

/** `gpu`: an object, or a device index (go-livepeer fills its name from the local GPUs; not here). */
function runnerGpu(raw: unknown): NonNullable<LiveRunner['gpu']> {
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw)) throw new Mistyped('a gpu index is not an integer');
    return { id: String(raw) };
  }
  const get = fields(raw, 'a gpu');
  const gpu: NonNullable<LiveRunner['gpu']> = {};
  const id = str(get('id', 'string'));
  const name = str(get('name', 'string'));
  const vram = int(get('vram_mb', 'int'));
  if (id !== '') gpu.id = id;
  if (name !== '') gpu.name = name;
  if (vram !== 0n) gpu.vram_mb = vram;
  return gpu;
}

type FieldKind = GoKind | 'array' | '*struct-or-int';

/** goFields over `raw`, throwing Mistyped where Go's decode would fail. */
function fields(raw: unknown, what: string): (name: string, kind: FieldKind) => unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Mistyped(`${what} is not a JSON object`);
  }
  const get = goFields(raw);
  return (name, kind) => {
    if (kind === 'array') {
      // A slice: goFields hands an array back as a value its struct kinds do not take.
      const value = get(name, '*struct');
      if (value === undefined || value === null || Array.isArray(value)) return value;
      throw new Mistyped(`${what}'s ${name} is not an array`);
    }
    if (kind === '*struct-or-int') {
      const value = get(name, '*struct');
      if (value === undefined || value === null || typeof value === 'object') return value;
      if (typeof value === 'number') return value;
      throw new Mistyped(`${what}'s ${name} is not an object`);
    }
    const value = get(name, kind);
    const ok =
      value === undefined ||
      value === null ||
      (kind === 'string' && typeof value === 'string') ||
      (kind === 'int' && typeof value === 'bigint') ||
      (kind === 'number' && typeof value === 'string') ||
      (kind === '*struct' && typeof value === 'object');
    if (!ok) throw new Mistyped(`${what}'s ${name} is not of its type`);
    return value;
  };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const int = (v: unknown): bigint => (typeof v === 'bigint' ? v : 0n);

/**
 * Why go-livepeer's discovery leaves a runner out, or undefined when it lists it: it needs a URL,
 * an app, and a price in wei per second or per 720p-pixel-second, positive and at most the
 * signer's max price (compared as go-livepeer compares it, whatever the unit).
 */
export function runnerRefused(r: LiveRunner, maxPrice: Rational | undefined): string | undefined {
  if (r.url === '') return 'missing URL';
  if (r.app.trim() === '') return 'missing app';
  const p = r.price_info;
  let price: Rational;
  try {
    price = parseDecimal(p?.price.text ?? '', 'price');
  } catch {
    return 'invalid price';
  }
  if (p!.currency.trim().toLowerCase() !== 'wei') return 'unsupported currency';
  if (!RUNNER_PRICE_UNITS.has(p!.unit.trim().toLowerCase())) return 'unsupported unit';
  if (maxPrice !== undefined && price.cmp(maxPrice) > 0) return 'above the max price';
  return undefined;
}

/** One orchestrator's `/discovery` nodes, and the rule its runners are listed by (runnerRefused). */
export interface RunnerReply {
  nodes: readonly RunnerNode[];
  refused: (r: LiveRunner) => string | undefined;
}

/** What merging runners reports: a runner left out, or a second one at a URL already listed. */
export interface RunnerNotes {
  filtered(address: string, runner: LiveRunner, reason: string): void;
  conflict(address: string, url: string): void;
}

/**
 * The pool with the runners the orchestrators' `/discovery` replies list (in the order they were
 * asked; each runner judged by its reply's rule), merged as go-livepeer merges them: by node address (a trailing `/` ignored) into the
 * listed orchestrator at that address, else into a new entry for it (an http(s) URL); each
 * runner the rules take (runnerRefused) adds its app to its entry's capabilities (so `caps=<app>`
 * finds it) and is listed once per URL (the first kept). An entry with no capability is left out;
 * capabilities are sorted, runners in the order first seen.
 */
export function withRunners(
  listed: readonly DiscoveredOrchestrator[],
  replies: readonly RunnerReply[],
  notes: RunnerNotes,
): DiscoveredOrchestrator[] {
  const entries = new Map<string, DiscoveredOrchestrator>();
  const key = (address: string) => address.replace(/\/+$/, '');
  for (const o of listed) {
    if (!entries.has(key(o.address)))
      entries.set(key(o.address), { ...o, capabilities: [...o.capabilities] });
  }
  for (const { nodes, refused } of replies) {
    for (const n of nodes) {
      if (n.address === '') continue;
      let entry = entries.get(key(n.address));
      if (entry === undefined) {
        if (!isHttpUrl(n.address)) continue;
        entry = { address: n.address, score: LISTED_SCORE, capabilities: [] };
        entries.set(key(n.address), entry);
      }
      for (const r of n.runners) addRunner(entry, r, refused, notes);
    }
  }
  const out: DiscoveredOrchestrator[] = [];
  for (const entry of entries.values()) {
    if (entry.capabilities.length === 0) continue;
    entry.capabilities.sort();
    out.push(entry);
  }
  return out;
}

function addRunner(
  entry: DiscoveredOrchestrator,
  r: LiveRunner,
  refused: (r: LiveRunner) => string | undefined,
  notes: RunnerNotes,
): void {
  const why = refused(r);
  if (why !== undefined) {
    notes.filtered(entry.address, r, why);
    return;
  }
  if (!entry.capabilities.includes(r.app)) entry.capabilities.push(r.app);
  const runners = (entry.runners ??= []);
  const first = runners.find((x) => x.url === r.url);
  if (first === undefined) runners.push(r);
  else if (!sameRunner(first, r)) notes.conflict(entry.address, r.url);
}

/** The same runner at two moments: its use of capacity moves between polls, the rest does not. */
const sameRunner = (a: LiveRunner, b: LiveRunner): boolean => {
  const still = (r: LiveRunner) => goJsonText({ ...r, capacity_used: 0n, capacity_available: 0n });
  return still(a) === still(b);
};

function isHttpUrl(raw: string): boolean {
  try {
    const u = new URL(raw);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.host !== '';
  } catch {
    return false;
  }
}
