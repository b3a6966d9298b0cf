import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Below Linux's ephemeral range (32768–60999): a port the OS hands out for port 0 may be taken by
// an outgoing connection's local end before our server binds it, which parallel tests did.
const FIRST = 20_000;
const LAST = 32_767;

/**
 * Ports handed out, shared by every process of this machine: two processes (test files in
 * parallel, a CI run beside a dev stack) could otherwise pick the same free port, and the second
 * server to bind it fail (seen: a dev stack's service with EADDRINUSE). A reservation is a file
 * named by the port and a PORT_HOLD_MS window, created exclusively, and holds through the next
 * window too: longer than a caller takes to start its server on the port, after which a bound port
 * is found taken by binding it. Nothing is ever deleted to take a port over, so two callers cannot
 * both get it. TICKETPAY_PORT_RESERVATIONS names another directory (a spec's own).
 */
export const PORT_HOLD_MS = 10 * 60_000;

const reservations = () => process.env.TICKETPAY_PORT_RESERVATIONS ?? join(tmpdir(), 'ticketpay-ports');
let unreserved = false;

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

/**
 * Takes the reservation of `port`; false if another caller holds it. Where reservations cannot be
 * written (a directory of another user's, a full disk), ports are only checked by binding.
 */
function reserve(port: number): boolean {
  if (unreserved) return true;
  const dir = reservations();
  const window = Math.floor(Date.now() / PORT_HOLD_MS);
  const file = (w: number) => join(dir, `${port}.${w}`);
  try {
    if (existsSync(file(window - 1))) return false;
    mkdirSync(dir, { recursive: true, mode: 0o1777 });
    writeFileSync(file(window), String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    unreserved = true;
    console.warn(
      `freePort: port reservations in ${dir} unavailable (${(err as Error).message}); binding only`,
    );
    return true;
  }
  // Best effort: the window before the previous one holds nothing any more.
  rmSync(file(window - 2), { force: true });
  return true;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
