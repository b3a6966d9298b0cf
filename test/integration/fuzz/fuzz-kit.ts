import { status } from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import type { RawOutcome } from './raw-grpc.js';

/** Cases tried per endpoint, printed at the end of each file (the issue asks for the figures). */
export class Tally {
  private readonly counts = new Map<string, number>();
  private readonly unexpected: string[] = [];
  /** endpoint → status/error-code → count, so the report shows what the cases actually hit. */
  private readonly outcomes = new Map<string, Map<string, number>>();

  constructor(private readonly file: string) {}

  add(endpoint: string, n = 1): void {
    this.counts.set(endpoint, (this.counts.get(endpoint) ?? 0) + n);
  }

  outcome(endpoint: string, what: string): void {
    const m = this.outcomes.get(endpoint) ?? new Map<string, number>();
    m.set(what, (m.get(what) ?? 0) + 1);
    this.outcomes.set(endpoint, m);
  }

  /** Records a failure without stopping the run, so one report lists all of them. */
  fail(endpoint: string, why: string): void {
    if (this.unexpected.length < 20) this.unexpected.push(`${endpoint}: ${why}`);
    else if (this.unexpected.length === 20) this.unexpected.push('…');
  }

  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  report(): void {
    const lines = [...this.counts].map(([k, v]) => {
      const hit = [...(this.outcomes.get(k) ?? [])].map(([o, n]) => `${o}×${n}`).join(' ');
      return `  ${k.padEnd(44)} ${String(v).padStart(6)}  ${hit}`;
    });
    process.stdout.write(`fuzz ${this.file}: ${this.total()} cases\n${lines.join('\n')}\n`);
    expect(this.unexpected, 'unexpected outcomes').toEqual([]);
  }
}

export const OK: number = status.OK;
export const RESOURCE_EXHAUSTED: number = status.RESOURCE_EXHAUSTED;

/** Statuses that mean "the server did not understand its own failure": never an answer to bad input. */
const UNCODED = new Set<number>([status.UNKNOWN, status.INTERNAL]);

/**
 * A bad-input outcome is fine when it is OK (a valid answer) or a coded error: a status other
 * than UNKNOWN/INTERNAL with an `error-code` trailer. Malformed protobuf and oversized requests
 * included: bootstrapService turns grpc-js's own uncoded decode failure into MALFORMED_MESSAGE and
 * its size refusal into MESSAGE_TOO_LARGE.
 */
export function checkOutcome(tally: Tally, endpoint: string, out: RawOutcome): boolean {
  tally.add(endpoint);
  tally.outcome(endpoint, out.code === OK ? 'OK' : `${out.code}:${out.errorCode ?? '-'}`);
  if (out.code === OK) return true;
  if (UNCODED.has(out.code)) {
    tally.fail(endpoint, `status ${out.code} ${out.details} (${out.errorCode ?? 'no code'})`);
    return false;
  }
  if (!out.errorCode) {
    tally.fail(endpoint, `status ${out.code} without error-code trailer: ${out.details}`);
    return false;
  }
  return true;
}

/** Every key under `prefix` with its serialized value: two equal snapshots = Redis untouched. */
export async function redisSnapshot(url: string, prefix: string): Promise<Map<string, string>> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const out = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const dump = await redis.dumpBuffer(key);
        if (dump) out.set(key, dump.toString('hex'));
      }
    } while (cursor !== '0');
    return out;
  } finally {
    redis.disconnect();
  }
}

export function expectSameSnapshot(before: Map<string, string>, after: Map<string, string>): void {
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
    (k) => before.get(k) !== after.get(k),
  );
  expect(changed, 'Redis keys changed by invalid input').toEqual([]);
}
