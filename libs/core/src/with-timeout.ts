/** `work`, or a rejection with `lateMessage` if it has not settled within `ms` (the timer is always cleared). */
export async function withTimeout<T>(work: Promise<T>, ms: number, lateMessage: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(lateMessage)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
