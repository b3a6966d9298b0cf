/**
 * CPU time of processes read from /proc (Linux only), for the benchmarks that report CPU per
 * payment or per winner of the processes they run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * The fields of /proc/<pid>/stat from its third on, after the parenthesised command name (which
 * may hold spaces): [1] is the parent's pid, [11]–[14] utime, stime, cutime, cstime. Throws when
 * the process is gone.
 */
export function procStatFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

let ticksPerSecond: number | undefined;
/** Clock ticks per second of those CPU times (CLK_TCK, 100 on Linux). */
export function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** CPU seconds a process used itself (user + system, all threads), from its stat fields. */
export const ownCpuSeconds = (fields: string[]): number =>
  (Number(fields[11]) + Number(fields[12])) / clockTicks();

/** CPU seconds its children that exited and were waited for used (cutime + cstime). */
export const reapedCpuSeconds = (fields: string[]): number =>
  (Number(fields[13]) + Number(fields[14])) / clockTicks();
