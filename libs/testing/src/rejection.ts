/**
 * What `promise` rejects with, checked to be a `type`: how a spec looks into a refusal. Throws
 * when it resolves, or rejects with anything else.
 */
export async function rejectionOf<E>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  let rejected: { error: unknown } | undefined;
  await promise.then(
    () => undefined,
    (error: unknown) => (rejected = { error }),
  );
  if (!rejected) throw new Error(`expected a rejection with ${type.name}; it resolved`);
  if (!(rejected.error instanceof type)) {
    throw new Error(`expected a rejection with ${type.name}, got: ${String(rejected.error)}`, {
      cause: rejected.error,
    });
  }
  return rejected.error;
}
