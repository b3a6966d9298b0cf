// Dependency-free: run by ensure-setup.mjs before any package is installed.
import { spawnSync } from 'node:child_process';

/**
 * Installs the locked packages: `npm ci`, and where that fails, `npm install`. Some registry
 * mirrors serve no other-platform builds of native packages, and npm ci then refuses any lockfile
 * as out of sync while npm install still installs exactly the locked versions. npm's output (npm
 * ci's complaints, engine warnings of dev tools) is kept back and shown only when installing
 * fails: it explains nothing when it works.
 *
 * @param {string} root the checkout
 * @param {{ npm?: string, write?: (text: string) => void }} [options]
 * @returns {number} 0, or the exit status of the failed npm install
 */
export function installPackages(root, { npm = 'npm', write = (t) => process.stderr.write(t) } = {}) {
  const ci = quietly(npm, ['ci'], root);
  if (ci.status === 0) return 0;
  write('setup: npm ci did not accept the lockfile here; installing the locked versions with npm install\n');
  const install = quietly(npm, ['install'], root);
  if (install.status === 0) return 0;
  write(`setup: npm ci failed first, with:\n${ci.output}`);
  write(`setup: then npm install failed, with:\n${install.output}`);
  return install.status ?? 1;
}

/** Runs `npm <command>` with its output captured (both streams, in one text). */
function quietly(npm, args, cwd) {
  const r = spawnSync(npm, [...args, '--no-audit', '--no-fund'], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
    encoding: 'utf8',
  });
  return {
    status: r.status,
    output: `${r.error ? `${r.error.message}\n` : ''}${r.stdout ?? ''}${r.stderr ?? ''}`,
  };
}
