import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';

// Below Linux's ephemeral range (32768–60999): a port the OS hands out for port 0 may be taken by
// an outgoing connection's local end before our server binds it, which parallel tests did.
const FIRST = 20_000;
const LAST = 32_767;

/**
 * A loopback port that was free a moment ago: for servers (gRPC, child processes) that must be
 * told their port. Random among ports no outgoing connection uses, checked by binding it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = randomInt(FIRST, LAST + 1);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port between ${FIRST} and ${LAST} after 50 tries`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
