import { withTimeout } from '#app/core';

/**
 * `work`, failing with an error naming `label` if it has not settled within `ms`: a test whose
 * step hangs then says which step, instead of only timing out as a whole.
 */
export function step<T>(label: string, ms: number, work: Promise<T>): Promise<T> {
  return withTimeout(work, ms, `${label} did not finish within ${ms} ms`);
}
