import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '#app/common';
import { grpcHealthCheck, type ServiceProcess } from '#app/testing';

/**
 * Runs a service's real `main.ts` from source (no build needed), so a test covers the wiring
 * main does (runService and its options) and not only the module under test.
 */
export function startSourceService(name: string, env: Record<string, string>): ServiceProcess {
  const proc = spawn(
    process.execPath,
    [
      '--conditions=ticketpay-source',
      '--import',
      '@swc-node/register/esm-register',
      join('apps', name, 'src', 'main.ts'),
    ],
    { cwd: repoRoot(), env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
