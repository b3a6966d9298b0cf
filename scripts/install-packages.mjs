// Dependency-free: run by ensure-setup.mjs before any package is installed.
import { spawnSync } from 'node:child_process';

/**
 * Installs the locked packages: `npm ci`, and where that fails, `npm install`. Some registry
 * mirrors serve no other-platform builds of native packages, and npm ci then refuses any lockfile
 * as out of sync while npm install still installs exactly the locked versions. npm ci's complaints
 * are kept back and shown only when the fallback fails too: they explain nothing when it works.
 *
 * @param {string} root the checkout
 * @param {{ npm?: string, write?: (text: string) => void }} [options]
 * @returns {number} 0, or the exit status of the failed npm install
 */
export function installPackages(root, { npm = 'npm', write = (t) => process.stderr.write(t) } = {}) {
  const args = ['--no-audit', '--no-fund'];
  const ci = spawnSync(npm, ['ci', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
  });
  if (ci.status === 0) return 0;
  write('setup: npm ci did not accept the lockfile here; installing the locked versions with npm install\n');
  const install = spawnSync(npm, ['install', ...args], { cwd: root, stdio: 'inherit' });
  if (install.status === 0) return 0;
  write(`setup: npm ci failed first, with:\n${ci.error?.message ?? ''}${ci.stdout ?? ''}${ci.stderr ?? ''}`);
  return install.status ?? 1;
}
