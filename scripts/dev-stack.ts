import { join } from 'node:path';
import { INFRA_ENV, parseEnv } from '#app/common';
import { runMigrations } from '#app/database';
import { startDevChain, type DevChain } from './dev/dev-chain.js';
import { ensureDatabase, ensureRedis } from './dev/local-stores.js';
import { ProcessGroup } from './dev/process-group.js';

/**
 * `npm start`: the whole system on one machine. Uses DATABASE_URL, REDIS_URL, ETH_RPC_URL and
 * CONTROLLER_ADDRESS when given; otherwise local Postgres/Redis and a dev chain (anvil) with the
 * contracts deployed, its state kept in `.ticketpay/` so a restart reuses it.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const STATE_DIR = join(ROOT, '.ticketpay');
const SERVICES = [
  { name: 'sender', health: 8920 },
  { name: 'recipient', health: 8921 },
  { name: 'sender-monitor', health: 8925 },
  { name: 'redeemer', health: 8933 },
] as const;

async function main(): Promise<void> {
  const given = parseEnv(
    {
      DATABASE_URL: { ...INFRA_ENV.DATABASE_URL, default: 'postgres://postgres@127.0.0.1:5432/ticketpay' },
      REDIS_URL: INFRA_ENV.REDIS_URL,
      ETH_RPC_URL: { ...INFRA_ENV.ETH_RPC_URL, default: undefined, optional: true },
      CONTROLLER_ADDRESS: { ...INFRA_ENV.CONTROLLER_ADDRESS, optional: true },
    },
    process.env,
  );
  await ensureDatabase(given.DATABASE_URL);
  await ensureRedis(given.REDIS_URL);
  const applied = await runMigrations(given.DATABASE_URL);
  log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'database schema is up to date');

  let chain: DevChain | undefined;
  let rpcUrl = given.ETH_RPC_URL;
  let controller = given.CONTROLLER_ADDRESS;
  if (!rpcUrl || !controller) {
    if (rpcUrl || controller) throw new Error('set both ETH_RPC_URL and CONTROLLER_ADDRESS, or neither');
    chain = await startDevChain(STATE_DIR);
    rpcUrl = chain.rpcUrl;
    controller = chain.controller;
    log(`dev chain ${rpcUrl}, Controller ${controller}`);
  }

  const group = new ProcessGroup();
  const env = {
    ...process.env,
    DATABASE_URL: given.DATABASE_URL,
    REDIS_URL: given.REDIS_URL,
    ETH_RPC_URL: rpcUrl,
    CONTROLLER_ADDRESS: controller,
    LOG_FORMAT: 'text',
  };
  let shuttingDown = false;
  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log('stopping…');
    await group.stop();
    await chain?.anvil.stop();
    process.exit(code);
  };
  for (const svc of SERVICES) {
    group.start(
      svc.name,
      process.execPath,
      [join(ROOT, 'dist', 'apps', svc.name, 'src', 'main.js')],
      env,
      (code) => {
        if (!shuttingDown) void shutdown(code ?? 1);
      },
    );
  }
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  await Promise.all(SERVICES.map((svc) => waitHealthy(svc.health)));
  log('all services are healthy:');
  for (const svc of SERVICES) log(`  ${svc.name.padEnd(15)} http://127.0.0.1:${svc.health}/health`);
  log('press Ctrl-C to stop');
}

async function waitHealthy(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`service on port ${port} did not become healthy within ${timeoutMs / 1000} s`);
}

function log(msg: string): void {
  process.stdout.write(`\x1b[1mticketpay\x1b[0m      │ ${msg}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
