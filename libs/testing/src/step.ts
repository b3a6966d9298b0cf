import { pendingShutdownSteps } from '#app/common';
import { withTimeout } from '#app/core';

/**
 * `work`, failing with an error naming `label` if it has not settled within `ms`: a test whose
 * step hangs then says which step, instead of only timing out as a whole, and what the process was
 * still waiting on (sockets, timers, …, and the lifecycle hooks of services closing in this process),
 * since such hangs have only been seen under CI's load.
 */
export async function step<T>(label: string, ms: number, work: Promise<T>): Promise<T> {
  try {
    return await withTimeout(work, ms, `${label} did not finish within ${ms} ms`);
  } catch (err) {
    if (err instanceof Error && err.message.endsWith(`within ${ms} ms`)) {
      err.message += `; pending: ${pendingResources()}`;
      const steps = pendingShutdownSteps();
      if (steps) err.message += `; shutdown steps still running: ${steps}`;
    }
    throw err;
  }
}

/** The kinds of resource keeping the event loop busy, with counts (`TCPSocketWrap×3, Timeout×2`). */
function pendingResources(): string {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${kind}×${n}`).join(', ') || 'none';
}
