/**
 * `npm run bench`: runs every benchmark as its own process (ticket, sender, signer, recipient, gas, and
 * the end-to-end run on the local stack), streams their output, gathers the figures each prints
 * on its `BENCH_JSON` line, and writes bench/RESULTS.md: the machine, then one table of medians.
 *
 * BENCH_RUNS=n runs each benchmark n times (default 1; the benchmarks take medians internally).
 * BENCH_ONLY=ticket,gas runs a subset. A benchmark that is missing, fails or prints no figures
 * is reported as such in the results instead of stopping the others.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BENCH_JSON_MARKER, type BenchFigure } from './bench-json.js';

const BENCH_DIR = import.meta.dirname;
const ROOT = join(BENCH_DIR, '..');
const BENCHES: { name: string; file: string; env?: Record<string, string> }[] = [
  { name: 'ticket', file: 'ticket.bench.ts' },
  { name: 'sender', file: 'sender.bench.ts' },
  { name: 'signer', file: 'signer.bench.ts' },
  { name: 'recipient', file: 'recipient.bench.ts' },
  { name: 'gas', file: 'gas.bench.ts' },
  { name: 'e2e', file: 'e2e.bench.ts' },
  // The realistic loop again at a production-like win rate: the demo's 1 in 10 makes the
  // redemptions (Redeemer, anvil, Postgres) share the 2 cores with the payment path.
  {
    name: 'e2e-1in1000',
    file: 'e2e.bench.ts',
    env: { RECIPIENT_TICKET_EV: '10000000000000', BENCH_E2E_VARIANTS: 'realistic' },
  },
];
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? '1'));
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());

interface Outcome {
  name: string;
  status: 'ok' | 'missing' | 'failed' | 'no figures';
  detail?: string;
  seconds: number;
  /** Per figure (name + unit), its value in each run. */
  figures: Map<string, { figure: BenchFigure; values: number[] }>;
}

/** Runs one benchmark process, echoing its output, and returns the figures of its BENCH_JSON lines. */
function runBench(
  file: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; figures: BenchFigure[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=ticketpay-source', '--import', '@swc-node/register/esm-register', join('bench', file)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    );
    const figures: BenchFigure[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(`${BENCH_JSON_MARKER} `)) {
        try {
          const parsed = JSON.parse(line.slice(BENCH_JSON_MARKER.length + 1)) as { figures: BenchFigure[] };
          figures.push(...parsed.figures.filter((f) => Number.isFinite(f.value)));
        } catch {
          process.stdout.write(`  (unreadable ${BENCH_JSON_MARKER} line ignored)\n`);
        }
        return;
      }
      process.stdout.write(`  ${line}\n`);
    });
    createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(`  ${line}\n`));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, figures }));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function formatValue(value: number): string {
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(value >= 10 ? 1 : 2);
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model.trim() ?? 'unknown';
}

function report(outcomes: Outcome[], startedAt: Date): string {
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${startedAt.toISOString()}. Each value is the median of ${RUNS} run(s) ` +
      'of a benchmark, each of which already reports medians of its own repetitions. Figures depend ' +
      'on the machine; compare runs on the same one.',
    '',
    '## Machine',
    '',
    `- CPU: ${cpuModel()}`,
    `- Cores: ${availableParallelism()}`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Node: ${process.version}`,
    `- OS: ${platform()} ${release()}`,
    '',
    '## Results',
    '',
    '| benchmark | figure | median | unit |',
    '| --- | --- | ---: | --- |',
  ];
  for (const o of outcomes) {
    if (o.status !== 'ok') {
      lines.push(`| ${o.name} | _${o.status}${o.detail ? `: ${o.detail}` : ''}_ | | |`);
      continue;
    }
    for (const { figure, values } of o.figures.values()) {
      lines.push(`| ${o.name} | ${figure.name} | ${formatValue(median(values))} | ${figure.unit} |`);
    }
  }
  lines.push('', '## Runs', '', '| benchmark | status | time (s) |', '| --- | --- | ---: |');
  for (const o of outcomes) lines.push(`| ${o.name} | ${o.status} | ${o.seconds.toFixed(0)} |`);
  lines.push(
    '',
    'Details of each benchmark (what it measures, conditions) are printed by it: see the `bench:*` scripts.',
    '',
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const outcomes: Outcome[] = [];
  for (const bench of BENCHES) {
    if (ONLY && !ONLY.includes(bench.name)) continue;
    const outcome: Outcome = { name: bench.name, status: 'ok', seconds: 0, figures: new Map() };
    outcomes.push(outcome);
    if (!existsSync(join(BENCH_DIR, bench.file))) {
      outcome.status = 'missing';
      outcome.detail = `bench/${bench.file} does not exist`;
      process.stdout.write(`\n== ${bench.name}: missing (bench/${bench.file})\n`);
      continue;
    }
    const t0 = Date.now();
    for (let run = 1; run <= RUNS; run++) {
      process.stdout.write(`\n== ${bench.name}${RUNS > 1 ? ` (run ${run}/${RUNS})` : ''}\n`);
      const { code, figures } = await runBench(bench.file, bench.env);
      if (code !== 0) {
        outcome.status = 'failed';
        outcome.detail = `exit code ${code}`;
        break;
      }
      for (const f of figures) {
        const key = `${f.name}\u0000${f.unit}`;
        const entry = outcome.figures.get(key) ?? { figure: f, values: [] };
        entry.values.push(f.value);
        outcome.figures.set(key, entry);
      }
    }
    outcome.seconds = (Date.now() - t0) / 1_000;
    if (outcome.status === 'ok' && outcome.figures.size === 0) outcome.status = 'no figures';
  }
  const markdown = report(outcomes, startedAt);
  writeFileSync(join(BENCH_DIR, 'RESULTS.md'), markdown);
  process.stdout.write(`\n${markdown}\nwritten to bench/RESULTS.md\n`);
}

await main();
