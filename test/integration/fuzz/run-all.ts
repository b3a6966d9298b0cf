const CONCURRENCY = 16;

/** Runs `cases` through `run` with bounded concurrency (loopback calls overlap, order is kept). */
export async function runAll<T>(cases: readonly T[], run: (c: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < cases.length) await run(cases[next++]);
    }),
  );
}
