import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '#app/common';
import { grpcHealthCheck } from './grpc-health.js';

export interface ServiceProcess {
  name: string;
  proc: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Starts a built service (`dist/apps/<name>/src/main.js`) as a real process with `env`. */
export function startServiceProcess(name: string, env: Record<string, string>): ServiceProcess {
  const entry = join(repoRoot(), 'dist', 'apps', name, 'src', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  return spawnService(name, [entry], env);
}

/**
 * Runs a service's real `main.ts` from source (no build needed), so a test covers the wiring
 * main does (runService and its options) and not only the module under test.
 */
export function startSourceService(name: string, env: Record<string, string>): ServiceProcess {
  const main = join('apps', name, 'src', 'main.ts');
  return spawnService(
    name,
    ['--conditions=ticketpay-source', '--import', '@swc-node/register/esm-register', main],
    env,
  );
}

/** Node with `args`, only `env` (and PATH) in its environment, its output kept. */
function spawnService(name: string, args: string[], env: Record<string, string>): ServiceProcess {
  const proc = spawn(process.execPath, args, {
    cwd: repoRoot(),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    name,
    proc,
    output: () => out,
    stop: async (graceMs = 10_000) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** SIGKILL (a crash: no shutdown hook runs) and wait until the process is gone. */
export async function kill9(svc: ServiceProcess): Promise<void> {
  const { proc } = svc;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGKILL');
  await exited;
}

/** Polls `url` until it answers 200 or the process exits. */
export async function waitForHttpOk(url: string, svc: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (svc.proc.exitCode !== null) {
      throw new Error(`${svc.name} exited with ${svc.proc.exitCode}:\n${svc.output()}`);
    }
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${svc.name}: ${url} not OK within ${timeoutMs} ms:\n${svc.output()}`);
}

/** Polls gRPC health on `target` until it answers SERVING or the process exits. */
export async function waitForGrpcServing(
  target: string,
  svc: ServiceProcess,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (svc.proc.exitCode !== null)
      throw new Error(`${svc.name} exited with ${svc.proc.exitCode}:\n${svc.output()}`);
    if ((await grpcHealthCheck(target, 1_000).catch(() => 'DOWN')) === 'SERVING') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${svc.name}: gRPC on ${target} not serving within ${timeoutMs} ms:\n${svc.output()}`);
}
