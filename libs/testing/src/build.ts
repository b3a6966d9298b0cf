import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '#app/common';

/**
 * Compiles the project to dist/ as `npm run build` does (tsc only; incremental, so cheap when up
 * to date), for tests and benches that run the built services.
 */
export function buildServices(): void {
  const build = spawnSync(
    process.execPath,
    [join(repoRoot(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: repoRoot(), encoding: 'utf8' },
  );
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
}
