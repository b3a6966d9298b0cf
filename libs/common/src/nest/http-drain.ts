import type { Server } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import { withTimeout } from '#app/core';

/** How often idle keep-alive connections are closed while the requests in flight finish. */
const IDLE_SWEEP_MS = 50;

/**
 * Stops `server` taking requests and waits, up to `boundMs`, for the requests in flight to be
 * answered. Nest closes its HTTP server only after the beforeApplicationShutdown hooks: a service
 * whose hook stops work that HTTP calls need (a Redeemer's workers) calls this first, so a call is
 * either refused (connection refused) or answered with that work still running. Idempotent: Nest's
 * own close later finds the server closed. Connections still busy at the bound are left to Nest.
 */
export async function stopTakingHttpRequests(
  server: Server | undefined,
  boundMs: number,
  logger: LoggerService,
): Promise<void> {
  if (!server?.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // A keep-alive connection is closed once idle: after the answer of the request it carries now.
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  server.closeIdleConnections();
  try {
    await withTimeout(closed, boundMs, `HTTP requests still in flight after ${boundMs} ms`);
  } catch (err) {
    logger.warn({ msg: 'shutdown goes on with HTTP requests unanswered', error: (err as Error).message });
  } finally {
    clearInterval(sweep);
  }
}
