import { createRequire } from 'node:module';

let swcPinned = false;

/**
 * Where a worker entry of this folder lives (`name` without extension) and how to start it.
 * Compiled code runs the sibling `.js` with the parent's flags. From TypeScript sources (tests,
 * scripts) the thread needs the source condition and the swc loader, which a vitest fork does
 * not have in its own execArgv.
 */
export function workerEntry(name: string): { url: URL; execArgv?: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, import.meta.url);
  if (!fromSource) return { url };
  // @swc/core's native binding segfaults the process when every thread that loaded it has
  // exited and a new thread loads it again (pool closed, then another pool started). Loading it
  // once here keeps it resident. Source mode only: compiled code never loads swc.
  if (!swcPinned) {
    createRequire(import.meta.url)('@swc/core');
    swcPinned = true;
  }
  // Resolved here so the thread finds the loader whatever the working directory.
  const loader = import.meta.resolve('@swc-node/register/esm-register');
  return { url, execArgv: ['--conditions=ticketpay-source', '--import', loader] };
}
