// CPU profile of the Recipient's main thread during a load run of `npm run bench:recipient`,
// folded into a few categories, so the bench can say where a payment's CPU time goes. Uses the
// V8 sampling profiler through node:inspector; the profiled pass is not one of the measured ones.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';

/** Categories, first match wins; a sample belongs to the innermost frame that names one. */
const CATEGORIES: readonly [name: string, matches: (url: string, fn: string) => boolean][] = [
  ['signature recovery (libsecp256k1)', (url) => url.includes('/secp256k1/')],
  [
    'ticket library: hashes, HMAC, checks',
    (url) =>
      url.includes('/libs/ticket/') ||
      url.includes('/hash-wasm/') ||
      url.includes('/@noble/') ||
      url.startsWith('wasm://'),
  ],
  ['Recipient service code', (url) => url.includes('/apps/recipient/')],
  ['Redis client (ioredis)', (url) => url.includes('/ioredis/') || url.includes('/redis-parser/')],
  ['Postgres, queue (winners)', (url) => /\/(pg|pg-protocol|typeorm|bullmq)\//.test(url)],
  [
    'protobuf encode/decode',
    (url, fn) =>
      /\/(protobufjs|@protobufjs\/[^/]+|@grpc\/proto-loader|long)\//.test(url) ||
      url.includes('/libs/proto/') ||
      (url === '' && /\$(decode|encode|toObject|fromObject)$/.test(fn)),
  ],
  ['gRPC (grpc-js)', (url) => url.includes('/@grpc/grpc-js/')],
  ['Nest + rxjs (handler pipeline)', (url) => url.includes('/@nestjs/') || url.includes('/rxjs/')],
  ['metrics (prom-client)', (url) => url.includes('/prom-client/')],
  ['chain head polling (ethers)', (url) => url.includes('/ethers/')],
];
const OTHER_JS = 'other JavaScript (libs/common, …)';
/** The profiler's own dispatch and the load generator's spawn: left out of the per-payment figures. */
const HARNESS = 'bench harness';
const NODE = 'Node internals (HTTP/2, sockets, streams, timers)';

export interface CpuProfileSummary {
  /** Sampled main-thread time, ms, over the profiled run (idle and harness excluded). */
  busyMs: number;
  idleMs: number;
  harnessMs: number;
  /** Sampled ms per category, largest first. */
  categories: [name: string, ms: number][];
  /**
   * CPU time the process used meanwhile (all threads), ms. Samples are wall time: on a busy
   * machine a thread waiting for a core is counted as running, so shares are taken from the
   * samples and absolute figures from this.
   */
  cpuMs: number;
}

/** Files the raw profiles of a `profileWhile` run go to, for function-level tools. */
export interface ProfileFiles {
  /** The CPU profile (.cpuprofile). */
  cpu?: string;
  /**
   * A sampling heap profile (.heapprofile) of every allocation meanwhile, collected objects
   * included: where the garbage comes from.
   */
  heap?: string;
}

/** Runs `fn` under the sampling profiler and folds the main thread's samples into categories. */
export async function profileWhile(
  fn: () => Promise<void>,
  files: ProfileFiles = {},
): Promise<CpuProfileSummary> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 250 });
    await session.post('Profiler.start');
    if (files.heap) {
      await session.post('HeapProfiler.enable');
      // Collected objects too (newer than Node 20's typings): the garbage is what is wanted here.
      const sampling = {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      };
      await session.post('HeapProfiler.startSampling', sampling);
    }
    const cpu = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(cpu);
    const { profile } = await session.post('Profiler.stop');
    if (files.cpu) writeFileSync(files.cpu, JSON.stringify(profile));
    if (files.heap) {
      const heap = await session.post('HeapProfiler.stopSampling');
      writeFileSync(files.heap, JSON.stringify(heap.profile));
    }
    return { ...summarize(profile), cpuMs: (used.user + used.system) / 1000 };
  } finally {
    session.disconnect();
  }
}

function summarize(profile: Profiler.Profile): Omit<CpuProfileSummary, 'cpuMs'> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const categoryOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = categoryOf.get(id);
    if (known) return known;
    const { url, functionName } = byId.get(id)!.callFrame;
    let category: string | undefined;
    if (functionName === '(idle)') category = '(idle)';
    else if (
      (url === '' && (functionName === 'dispatch' || functionName === 'spawn')) ||
      url === 'node:child_process' ||
      url.includes('/bench/')
    )
      category = HARNESS;
    else if (functionName === '(garbage collector)') category = 'garbage collection';
    else if (functionName === '(program)') category = 'V8/native (unattributed)';
    else category = CATEGORIES.find(([, matches]) => matches(url, functionName))?.[0];
    if (!category) {
      const up = parent.get(id);
      const own = url.startsWith('node:') || url === '' ? NODE : OTHER_JS;
      // Node internals and native frames count for the library that called them.
      category =
        own === NODE && up !== undefined && byId.get(up)!.callFrame.functionName !== '(root)'
          ? classify(up)
          : own;
    }
    categoryOf.set(id, category);
    return category;
  };
  const totals = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const category = classify(samples[i]);
    totals.set(category, (totals.get(category) ?? 0) + (deltas[i] ?? 0) / 1000);
  }
  const idleMs = totals.get('(idle)') ?? 0;
  const harnessMs = totals.get(HARNESS) ?? 0;
  totals.delete('(idle)');
  totals.delete(HARNESS);
  const categories = [...totals].sort((a, b) => b[1] - a[1]);
  return { busyMs: categories.reduce((sum, [, ms]) => sum + ms, 0), idleMs, harnessMs, categories };
}

/** One line per category: its share of the samples, and that share of the CPU per payment in µs. */
export function formatProfile(summary: CpuProfileSummary, payments: number): string {
  // The process's CPU less the harness's share of the samples.
  const cpuUs = ((summary.cpuMs * 1000) / payments) * (summary.busyMs / (summary.busyMs + summary.harnessMs));
  const lines = summary.categories.map(
    ([name, ms]) =>
      `    ${((ms / summary.busyMs) * 100).toFixed(1).padStart(5)}%  ` +
      `${((ms / summary.busyMs) * cpuUs).toFixed(0).padStart(5)} µs/payment  ${name}`,
  );
  return [
    `  CPU profile of ${payments} further payments (not in the figures; load generator start-up ` +
      `included): ${cpuUs.toFixed(0)} µs of CPU per payment, of which:`,
    ...lines,
  ].join('\n');
}
