/**
 * Sums the samples of one metric in a Prometheus text exposition (every label set), or returns
 * undefined when the metric is absent. Enough for counters read by the ops API; not a full parser.
 */
export function sumMetric(text: string, name: string): number | undefined {
  let found = false;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const value = Number(
      rest
        .slice(rest.lastIndexOf(rest[0] === '{' ? '}' : ' ') + 1)
        .trim()
        .split(' ')[0],
    );
    if (!Number.isFinite(value)) continue;
    found = true;
    sum += value;
  }
  return found ? sum : undefined;
}
