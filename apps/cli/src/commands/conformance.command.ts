import { spawn } from 'node:child_process';
import { extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, CliErrorCode } from '../cli.error.js';
import type { Command } from '../command.js';

/**
 * scripts/conformance.ts belongs to the ticket library and runs its checks when loaded, so it is
 * run as a child process: from the sources when the CLI runs from the sources (same loader flags),
 * else its compiled copy next to the CLI's in dist/.
 */
function conformanceScript(): string {
  const here = fileURLToPath(import.meta.url);
  return resolve(here, '..', '..', '..', '..', '..', 'scripts', `conformance${extname(here)}`);
}

interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runScript(script: string, args: string[]): Promise<ScriptRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

const SUMMARY = /^(\d+) passed, (\d+) failed$/;

export const conformanceCommand: Command = {
  name: 'conformance',
  summary: 'check a PM conformance vector file against the ticket library',
  usage: '<file>',
  details: [
    'The file has the format of shared/vectors/pm-vectors.json. Every ticket hash, signature,',
    'win check, EV, recipientRand and winProb vector is checked with every crypto backend.',
    'Exit 0 when all pass, 1 when any fails, 2 when the file cannot be used.',
  ],
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const file = resolve(args.positionals[0]);
    ctx.progress.status(`checking ${file}…`);
    const run = await runScript(conformanceScript(), [file]);
    ctx.progress.end();
    const lines = run.stdout.split('\n').filter((l) => l !== '');
    const summary = SUMMARY.exec(lines.at(-1) ?? '');
    if (run.code === 2) {
      throw new CliError(CliErrorCode.USAGE, run.stderr.trim() || `cannot check ${file}`);
    }
    if (!summary || (run.code !== 0 && run.code !== 1)) {
      throw new CliError(
        CliErrorCode.CONFORMANCE_FAILED,
        `the conformance checker stopped (exit ${run.code}): ${run.stderr.trim().split('\n').slice(-3).join(' ')}`,
      );
    }
    const passed = Number(summary[1]);
    const failed = Number(summary[2]);
    const failures = lines.slice(0, -1);
    if (run.code === 1 || failed > 0) {
      const error = new CliError(
        CliErrorCode.CONFORMANCE_FAILED,
        [...failures, `${passed} passed, ${failed} failed`].join('\n'),
      );
      error.details = { file, passed, failed, failures };
      throw error;
    }
    return { data: { file, passed, failed, failures }, human: [`${passed} passed, ${failed} failed`] };
  },
};
