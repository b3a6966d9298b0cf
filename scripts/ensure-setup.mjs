#!/usr/bin/env node
// Dependency-free pre-step of `npm start` and `npm test`: installs packages when they are missing
// or older than the lockfile, compiles the contracts when their sources changed, and builds the
// TypeScript (incrementally). Each step is skipped when already up to date.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installPackages } from './install-packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`setup step failed: ${cmd} ${args.join(' ')}\n`);
    process.exit(r.status ?? 1);
  }
}

const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  process.stdout.write('setup: installing packages (npm ci)\n');
  const status = installPackages(root);
  if (status !== 0) {
    process.stderr.write('setup step failed: npm install --no-audit --no-fund\n');
    process.exit(status);
  }
}
run(process.execPath, [join(root, 'scripts', 'compile-contracts.mjs')]);
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
