import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { installPackages } from './install-packages.mjs';

/**
 * A stand-in `npm` (the real one would need a registry that refuses our lockfile): `ci` prints a
 * screen of errors and fails; `install` succeeds or fails as FAKE_INSTALL_STATUS says. It logs each
 * call so the test sees what ran, in which order.
 */
function fakeNpm(dir: string, ciStatus: number, installStatus: number): string {
  const path = join(dir, 'npm');
  writeFileSync(
    path,
    `#!/bin/sh
echo "$1" >> "${join(dir, 'calls')}"
if [ "$1" = ci ]; then
  echo "npm error code EUSAGE (ci stdout)"
  echo "npm error Missing: @esbuild/aix-ppc64 from lock file (ci stderr)" >&2
  exit ${ciStatus}
fi
echo "added 1 package (install stdout)"
exit ${installStatus}
`,
  );
  chmodSync(path, 0o755);
  return path;
}

describe('installPackages (npm start / npm test setup)', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function run(ciStatus: number, installStatus: number): { status: number; shown: string; calls: string[] } {
    dir = mkdtempSync(join(tmpdir(), 'install-packages-'));
    let shown = '';
    const status = installPackages(dir, {
      npm: fakeNpm(dir, ciStatus, installStatus),
      write: (t) => (shown += t),
    });
    const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
    return { status, shown, calls };
  }

  it('stops after npm ci when it accepts the lockfile', () => {
    const { status, shown, calls } = run(0, 0);
    expect(status).toBe(0);
    expect(calls).toEqual(['ci']);
    expect(shown).toBe('');
  });

  it("keeps npm ci's errors back when npm install then succeeds", () => {
    const { status, shown, calls } = run(1, 0);
    expect(status).toBe(0);
    expect(calls).toEqual(['ci', 'install']);
    expect(shown).toContain('installing the locked versions with npm install');
    expect(shown).not.toContain('npm error');
    expect(shown).not.toContain('install stdout');
  });

  it("shows both npm's output (stdout and stderr) when npm install fails too", () => {
    const { status, shown, calls } = run(1, 3);
    expect(status).toBe(3);
    expect(calls).toEqual(['ci', 'install']);
    expect(shown).toContain('npm error code EUSAGE (ci stdout)');
    expect(shown).toContain('Missing: @esbuild/aix-ppc64 from lock file (ci stderr)');
    expect(shown).toContain('install stdout');
  });
});
