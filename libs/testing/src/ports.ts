import { randomInt } from 'node:crypto';
import { mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Below Linux's ephemeral range (32768–60999): a port the OS hands out for port 0 may be taken by
// an outgoing connection's local end before our server binds it, which parallel tests did.
const FIRST = 20_000;
const LAST = 32_767;

/**
 * Ports handed out, one file each, shared by every process of this machine: two processes (test
 * files in parallel, a CI run beside a dev stack) could otherwise pick the same free port, and the
 * second server to bind it fail (seen: a dev stack's service with EADDRINUSE). A reservation
 * outlives the time a caller takes to start its server on the port; after it, a bound port is
 * found taken by binding it.
 */
const RESERVATIONS = join(tmpdir(), 'ticketpay-ports');
export const PORT_HOLD_MS = 10 * 60_000;

/**
 * A loopback port that was free a moment ago and that no other caller on this machine was given
 * in the last PORT_HOLD_MS: for servers (gRPC, child processes) that must be told their port.
 * Random among ports no outgoing connection uses, checked by binding it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = randomInt(FIRST, LAST + 1);
    if (reserve(port) && (await bindable(port))) return port;
  }
  throw new Error(`no free port between ${FIRST} and ${LAST} after 50 tries`);
}

/** Takes the reservation of `port` (an old one is taken over); false if another caller holds it. */
function reserve(port: number): boolean {
  mkdirSync(RESERVATIONS, { recursive: true });
  const file = join(RESERVATIONS, String(port));
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() - mtimeMs(file) < PORT_HOLD_MS) return false;
      // Old: removed and created anew, so of two callers taking it over only one succeeds.
      try {
        unlinkSync(file);
      } catch {
        // removed by the other one
      }
    }
  }
  return false;
}

function mtimeMs(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
