/**
 * A ticketpay service run from source in its own process for a benchmark: started, waited for
 * until its /health answers, its CPU time read from /proc, stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from '#app/common';
import { ownCpuSeconds, procStatFields } from './proc-stat.js';

export interface ServiceProcess {
  httpUrl: string;
  /** Everything it printed so far. */
  output(): string;
  /** CPU time it has used (user + system, all threads), seconds; Linux only. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * Starts `entry` (e.g. apps/sender/src/main.ts) with only PATH and `env` in its environment, its
 * HTTP server on `httpPort`; resolves once /health answers, throws after 60 s or if it exits.
 */
export async function startServiceProcess(
  name: string,
  entry: string,
  httpPort: number,
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=ticketpay-source', '--import', '@swc-node/register/esm-register', entry],
    { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const service: ServiceProcess = {
    httpUrl: `http://127.0.0.1:${httpPort}`,
    output: () => output,
    cpuSeconds: () => ownCpuSeconds(procStatFields(child.pid!)),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
  try {
    await waitForHealth(name, `${service.httpUrl}/health`, child, () => output);
  } catch (err) {
    await service.stop();
    throw err;
  }
  return service;
}

async function waitForHealth(
  name: string,
  url: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} not healthy within 60 s:\n${output()}`);
}
