import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '#app/common';

export const CLI_ENTRY = join(repoRoot(), 'dist', 'apps', 'cli', 'src', 'main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Compiles the project as `npm run build` does (tsc only; the contracts are already compiled). The
 * tree is shared with engineers whose work in progress may not type-check: tsc still emits, so only
 * errors in the CLI's own files fail the build here.
 */
export async function buildCli(): Promise<void> {
  const tsc = join(repoRoot(), 'node_modules', 'typescript', 'bin', 'tsc');
  const output = await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: repoRoot(),
  }).then(
    () => '',
    (err: { stdout?: string }) => err.stdout ?? '',
  );
  const ours = output.split('\n').filter((line) => line.startsWith('apps/cli/'));
  if (ours.length > 0) throw new Error(`the CLI does not compile:\n${ours.join('\n')}`);
  if (!existsSync(CLI_ENTRY)) throw new Error(`${CLI_ENTRY} was not built:\n${output}`);
}

/** Starts the built CLI with exactly `env` (nothing inherited); resolves when it exits. */
export function startCli(
  args: readonly string[],
  env: Record<string, string>,
): {
  done: Promise<CliRun>;
} {
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { done };
}

export function runCli(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  return startCli(args, env).done;
}

/** Runs the CLI with --json and expects exit 0; returns the parsed stdout. */
export async function runCliJson<T = Record<string, unknown>>(
  args: readonly string[],
  env: Record<string, string>,
): Promise<T> {
  const run = await runCli([...args, '--json'], env);
  if (run.code !== 0) {
    throw new Error(`ticketpay ${args.join(' ')} exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
  }
  return JSON.parse(run.stdout) as T;
}
