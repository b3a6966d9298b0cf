/**
 * `work`, failing with an error naming `label` if it has not settled within `ms`: a test whose
 * step hangs then says which step, instead of only timing out as a whole.
 */
export async function step<T>(label: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
