import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import {
  bool,
  INFRA_ENV,
  int,
  LOCAL_STACK_ENV_FILE,
  oneOf,
  parseEnv,
  removeLocalStackEnv,
  STACK_PID_FILE,
  str,
  writeLocalStackEnv,
  type LocalStackEnv,
} from '#app/common';
import { runMigrations } from '#app/database';
import { Console, stackLine } from './dev/console.js';
import { PROGRESS_MARKER, parseProgressLine } from './dev/demo-broadcaster.js';
import { fundDemoSender, prepareDemoFiles } from './dev/demo-setup.js';
import { startDevChain, startRoundKeeper } from './dev/dev-chain.js';
import { startEmbeddedPostgres } from './dev/embedded-postgres.js';
import { ensureDatabase, ensureRedis } from './dev/local-stores.js';
import { ProcessGroup } from './dev/process-group.js';
import { DemoProgress, formatProgress } from './dev/progress.js';
import { startRedisServer } from './dev/redis-server.js';
import { choosePorts, serviceEnv, serviceSpecs } from './dev/services.js';

/**
 * `npm start`: the whole system on one machine, with a demo broadcaster paying the demo
 * orchestrator. Uses DATABASE_URL, REDIS_URL, ETH_RPC_URL + CONTROLLER_ADDRESS when given;
 * otherwise embedded Postgres, a redis-server from PATH and anvil with the contracts deployed, all
 * keeping their state in TICKETPAY_STATE_DIR (default `.ticketpay/`) so a restart continues.
 */
const ROOT = join(import.meta.dirname, '..', '..');

const STACK_ENV = {
  DATABASE_URL: { ...INFRA_ENV.DATABASE_URL, default: undefined, optional: true },
  REDIS_URL: { ...INFRA_ENV.REDIS_URL, default: undefined, optional: true },
  ETH_RPC_URL: { ...INFRA_ENV.ETH_RPC_URL, default: undefined, optional: true },
  CONTROLLER_ADDRESS: { ...INFRA_ENV.CONTROLLER_ADDRESS, optional: true },
  TICKETPAY_STATE_DIR: {
    parse: str,
    default: join(ROOT, '.ticketpay'),
    description: 'where the embedded Postgres, Redis and anvil keep their data, and the demo its keys',
  },
  TICKETPAY_FREE_PORTS: {
    parse: bool,
    default: false,
    description: 'give every service a free port instead of its usual one (tests, a second stack)',
  },
  TICKETPAY_DEMO: { parse: bool, default: true, description: 'run the demo broadcaster' },
  TICKETPAY_DEV_GAS_LIMIT: {
    parse: int(1_000_000, 1_000_000_000),
    default: 30_000_000,
    description: "the dev chain's block gas limit (anvil's default; one block a second)",
  },
  TICKETPAY_LOGS: {
    parse: oneOf(['files', 'console'] as const),
    default: 'files' as const,
    description:
      "where the services' logs go: files under <state dir>/logs (the console shows only errors), " +
      'or the console as well (also `npm start -- --logs`)',
  },
  // Text reads best in a terminal; json is what the services log in production.
  LOG_FORMAT: { ...INFRA_ENV.LOG_FORMAT, default: 'text' as const },
};

/** Stop order: the traffic first, then the services, then the stores they write to. */
const STOP_TIERS = [
  ['demo-broadcaster'],
  ['sender', 'recipient', 'ops'],
  ['redeemer', 'sender-monitor'],
  ['anvil'],
  ['redis'],
  ['postgres'],
];

async function main(): Promise<void> {
  const env = parseEnv(STACK_ENV, process.env);
  const showLogs = env.TICKETPAY_LOGS === 'console' || parseFlags(process.argv.slice(2)).logs;
  const stateDir = resolve(env.TICKETPAY_STATE_DIR);
  mkdirSync(stateDir, { recursive: true });
  // Postgres runs as the `postgres` user when we are root: it must be able to reach its data.
  if (userInfo().uid === 0) chmodSync(stateDir, 0o755);
  takeLock(stateDir);

  const out = new Console();
  const log = (msg: string) => out.line(stackLine(msg));
  const logDir = join(stateDir, 'logs');
  const group = new ProcessGroup(out, { logDir, showLogs });
  let stopRoundKeeper: (() => void) | undefined;
  let progress: DemoProgress | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let shuttingDown = false;

  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    clearInterval(progressTimer);
    out.releaseStatus();
    log('stopping…');
    await group.stop(STOP_TIERS.slice(0, 3), { rest: false });
    stopRoundKeeper?.();
    await progress?.close().catch(() => {});
    await group.stop(STOP_TIERS);
    releaseLock(stateDir);
    log(code === 0 ? 'stopped' : 'stopped after a failure');
    process.exit(code);
  };
  const failed = () => void shutdown(1);
  let interrupts = 0;
  const onSignal = () => {
    // A second Ctrl-C while stopping: stop waiting.
    if (++interrupts > 1) process.exit(130);
    void shutdown(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The terminal closed: stop as on Ctrl-C, or the children (in their own process groups, which
  // the hang-up does not reach) outlive us holding the ports. The console is gone: its write
  // errors are ignored from here on.
  process.on('SIGHUP', () => {
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    onSignal();
  });

  try {
    log(`state in ${stateDir}`);
    const started: LocalStackEnv = {};
    log(
      showLogs
        ? `service logs on the console and in ${logDir}/<service>.log`
        : `service logs in ${logDir}/<service>.log (errors show here; \`npm start -- --logs\` shows all)`,
    );
    let databaseUrl = env.DATABASE_URL;
    if (databaseUrl) {
      await ensureDatabase(databaseUrl);
    } else {
      const embedded = await startEmbeddedPostgres(stateDir, group, failed);
      databaseUrl = embedded.url;
      started.DATABASE_URL = databaseUrl;
      // The URL (with its dev password) goes to a file, never to the console.
      const where = embedded.dataDir.startsWith(stateDir) ? '' : `, data in ${embedded.dataDir}`;
      log(
        `embedded Postgres on ${new URL(databaseUrl).host} (URL in ${join(stateDir, LOCAL_STACK_ENV_FILE)}${where})`,
      );
    }
    let redisUrl = env.REDIS_URL;
    if (redisUrl) {
      await ensureRedis(redisUrl);
    } else {
      redisUrl = (await startRedisServer(join(stateDir, 'redis'), group, failed)).url;
      started.REDIS_URL = redisUrl;
      log(`redis-server on ${new URL(redisUrl).host}`);
    }
    const applied = await runMigrations(databaseUrl);
    log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'database schema is up to date');

    let rpcUrl = env.ETH_RPC_URL;
    let controller = env.CONTROLLER_ADDRESS;
    const demo = await prepareDemoFiles(stateDir);
    if (!rpcUrl || !controller) {
      if (rpcUrl || controller) throw new Error('set both ETH_RPC_URL and CONTROLLER_ADDRESS, or neither');
      const chain = await startDevChain(stateDir, group, failed, env.TICKETPAY_DEV_GAS_LIMIT);
      rpcUrl = chain.rpcUrl;
      controller = chain.controller;
      started.ETH_RPC_URL = rpcUrl;
      started.CONTROLLER_ADDRESS = controller;
      log(`dev chain ${rpcUrl}, Controller ${controller}`);
      stopRoundKeeper = startRoundKeeper(chain, log);
      const { funded, deposit } = await fundDemoSender(chain);
      log(
        `demo sender ${demo.senderAddress} ${funded ? 'funded' : 'already funded'} ` +
          `(deposit ${deposit / 10n ** 15n} mETH); demo recipient ${demo.recipientAddress} registered`,
      );
    }

    const stackEnvFile = writeLocalStackEnv(stateDir, started);
    log(`what it started, for the ticketpay CLI and your shell: ${stackEnvFile}`);

    const ports = await choosePorts(env.TICKETPAY_FREE_PORTS);
    const specs = serviceSpecs(ROOT, ports, demo);
    const base = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      ETH_RPC_URL: rpcUrl,
      CONTROLLER_ADDRESS: controller,
      LOG_FORMAT: env.LOG_FORMAT,
      TICKETPAY_STATE_DIR: stateDir,
      // Log files read best without colour codes; on the console (--logs) Nest's colours help.
      ...(showLogs ? {} : { NO_COLOR: '1' }),
    };
    for (const spec of specs) {
      group.start(spec.name, process.execPath, [spec.entry], {
        env: serviceEnv(spec, base),
        onUnexpectedExit: failed,
      });
    }
    await Promise.all(specs.map((spec) => waitHealthy(spec.name, spec.httpPort)));
    log('all services are healthy:');
    for (const spec of specs) {
      const grpc = spec.grpc ? `  gRPC ${spec.grpc}` : '';
      log(`  ${spec.name.padEnd(15)} http://127.0.0.1:${spec.httpPort}/health${grpc}`);
    }
    const ops = specs.find((s) => s.name === 'ops');
    if (ops) {
      log(`dashboard: http://127.0.0.1:${ops.httpPort}/  (API token in ${demo.opsApiTokenFile})`);
    }
    log(`Sender API token of the demo broadcaster in ${demo.apiTokenFile}; clients in ${demo.tokensFile}`);

    if (env.TICKETPAY_DEMO) {
      progress = new DemoProgress(databaseUrl);
      group.start(
        'demo-broadcaster',
        process.execPath,
        [join(ROOT, 'dist', 'scripts', 'dev', 'demo-broadcaster.js')],
        {
          env: {
            ...base,
            DEMO_SENDER_GRPC_URL: `127.0.0.1:${ports.senderGrpc}`,
            DEMO_RECIPIENT_GRPC_URL: `127.0.0.1:${ports.recipientGrpc}`,
            DEMO_SENDER_API_TOKEN: demo.apiToken,
            DEMO_COUNTERS_FILE: demo.countersFile,
          },
          intercept: (line) => {
            const counters = parseProgressLine(line);
            if (counters) progress?.update(counters);
            // The demo's own few lines (what it pays, why a payment failed) stay on the console.
            return line.startsWith(PROGRESS_MARKER) ? 'drop' : 'always';
          },
          onUnexpectedExit: failed,
        },
      );
      const refresh = async () => {
        try {
          if (progress && !shuttingDown) out.setStatus(formatProgress(await progress.read()));
        } catch {
          // The database may be stopping; the next refresh tries again.
        }
      };
      progressTimer = setInterval(() => void refresh(), 1_000);
    }
    log(`processes: ${JSON.stringify(group.pids())}`);
    log('press Ctrl-C to stop');
  } catch (err) {
    out.line(stackLine(`npm start failed: ${err instanceof Error ? err.message : String(err)}`));
    await shutdown(1);
  }
}

async function waitHealthy(name: string, port: number, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${name} (port ${port}) did not become healthy within ${timeoutMs / 1000} s`);
}

/** One stack per state directory: two would share (and corrupt) the same data. */
function takeLock(stateDir: string): void {
  const lock = join(stateDir, STACK_PID_FILE);
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    if (pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new Error(`another npm start (pid ${pid}) is using ${stateDir}`);
    }
  }
  writeFileSync(lock, String(process.pid));
}

function releaseLock(stateDir: string): void {
  removeLocalStackEnv(stateDir);
  rmSync(join(stateDir, STACK_PID_FILE), { force: true });
}

/** `npm start -- --logs`; anything else is refused rather than ignored. */
function parseFlags(args: readonly string[]): { logs: boolean } {
  const unknown = args.filter((a) => a !== '--logs');
  if (unknown.length > 0) {
    throw new Error(
      `unknown option ${unknown[0]} (npm start takes only --logs; settings are environment variables)`,
    );
  }
  return { logs: args.includes('--logs') };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
