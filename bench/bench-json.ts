/** One figure of a benchmark, as bench/run-all.ts collects it. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
}

export const BENCH_JSON_MARKER = 'BENCH_JSON';

/**
 * Prints the benchmark's figures as one machine-readable line (`BENCH_JSON {...}`) after its
 * human-readable output, for `npm run bench` to gather into bench/RESULTS.md. A benchmark may
 * print several; their figures add up.
 */
export function printBenchJson(bench: string, figures: BenchFigure[]): void {
  console.log(`${BENCH_JSON_MARKER} ${JSON.stringify({ bench, figures })}`);
}
