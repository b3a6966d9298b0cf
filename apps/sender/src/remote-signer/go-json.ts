/**
 * Go's `encoding/json` matches object keys to struct fields case-insensitively, and when several
 * keys fill the same field the last one wins; go-livepeer's callers and webhooks rely on the
 * casing (`ManifestID`, `state.State`, `Status`). The getter reads a JSON object the way Go
 * would fill a struct from it.
 */
export function goFields(obj: Record<string, unknown>): (name: string) => unknown {
  const folded = new Map<string, unknown>();
  for (const [k, v] of Object.entries(obj)) folded.set(k.toLowerCase(), v);
  return (name) => folded.get(name.toLowerCase());
}

/** A `maxPrice` object with its keys read as Go fills `runner.LiveRunnerPriceInfo`; else as given. */
export function goMaxPrice(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const get = goFields(raw as Record<string, unknown>);
  return { price: get('price'), currency: get('currency'), unit: get('unit') };
}
