import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Console } from './console.js';
import { ProcessGroup, type LineFate } from './process-group.js';

/** A Console writing into a string (not a TTY: status lines print as plain lines). */
function capture(): { out: Console; text: () => string } {
  let text = '';
  const stream = { isTTY: false, write: (chunk: string) => ((text += chunk), true) };
  return { out: new Console(stream as unknown as NodeJS.WriteStream), text: () => text };
}

/**
 * A real child: prints `errors` on stderr, then `lines` and `@@done` on stdout, then exits with
 * `code`, or stays until it is stopped when `code` is undefined.
 */
function script(lines: string[], errors: string[], code?: number): string[] {
  return [
    '-e',
    `for (const l of ${JSON.stringify(errors)}) console.error(l);` +
      `setTimeout(() => {` +
      `  for (const l of ${JSON.stringify([...lines, '@@done'])}) console.log(l);` +
      (code === undefined ? `  setInterval(() => {}, 1000);` : `  process.exitCode = ${code};`) +
      `}, 200);`,
  ];
}

const LINES = [
  'service started',
  '[Nest] 1  - 12/03/2026   ERROR [Redeemer] redemption failed',
  '{"level":"error","msg":"json error"}',
  'noise',
  '@@signal',
];
const fate = (line: string): LineFate => (line === '@@signal' ? 'drop' : line === 'noise' ? 'file' : 'show');

describe("the dev stack's children and their logs", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'process-group-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function runOnce(showLogs: boolean, exitCode?: number, onExit?: () => void) {
    const console = capture();
    const group = new ProcessGroup(console.out, { logDir: join(dir, 'logs'), showLogs });
    let done!: () => void;
    const printed = new Promise<void>((resolve) => (done = resolve));
    const proc = group.start('svc', process.execPath, script(LINES, ['on stderr'], exitCode), {
      env: process.env,
      intercept: (line) => {
        if (line !== '@@done') return fate(line);
        done();
        return 'drop';
      },
      onUnexpectedExit: onExit,
    });
    await printed;
    if (exitCode !== undefined) await new Promise((resolve) => proc.once('close', resolve));
    await group.stop([['svc']]);
    return { console: console.text(), log: readFileSync(group.logFile('svc'), 'utf8'), group };
  }

  it('quiet: every line but dropped ones goes to the file; the console shows only error lines', async () => {
    const { console, log } = await runOnce(false);
    expect(log.split('\n').filter(Boolean).sort()).toEqual(
      [...LINES.filter((l) => l !== '@@signal'), 'on stderr'].sort(),
    );
    expect(console).toContain('ERROR [Redeemer] redemption failed');
    expect(console).toContain('json error');
    expect(console).not.toContain('service started');
    expect(console).not.toContain('on stderr');
    expect(console).not.toContain('noise');
    expect(console).not.toContain('@@signal');
  });

  it("--logs: the console shows the children's lines too, not the file-only or dropped ones", async () => {
    const { console } = await runOnce(true);
    expect(console).toContain('service started');
    expect(console).toContain('on stderr');
    expect(console).not.toContain('noise');
    expect(console).not.toContain('@@signal');
  });

  it("an unexpected exit names the log file and shows the child's last lines", async () => {
    let exited = false;
    const { console, group } = await runOnce(false, 3, () => (exited = true));
    expect(exited).toBe(true);
    expect(console).toContain(`exited with code 3; its log: ${group.logFile('svc')}`);
    expect(console).toContain('service started');
  });

  it("keeps the previous run's log as .log.1", async () => {
    await runOnce(false);
    await runOnce(false);
    const logs = join(dir, 'logs');
    expect(readFileSync(join(logs, 'svc.log.1'), 'utf8')).toContain('service started');
    expect(readFileSync(join(logs, 'svc.log'), 'utf8')).toContain('service started');
  });
});
