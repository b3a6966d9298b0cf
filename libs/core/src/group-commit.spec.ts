import { describe, expect, it } from 'vitest';
import { GroupCommit, type GroupMember } from './group-commit.js';

/** A GroupCommit whose work is held open until the test lets each group finish. */
function held(maxSize = 10) {
  const groups: number[][] = [];
  const finish: (() => void)[] = [];
  const commit = new GroupCommit<number, number>(
    async (group: readonly GroupMember<number, number>[]) => {
      groups.push(group.map((m) => m.input));
      await new Promise<void>((resolve) => finish.push(resolve));
      for (const m of group) m.resolve(m.input * 2);
    },
    (n) => n,
    maxSize,
  );
  return { commit, groups, finish: () => finish.shift()!() };
}

describe('GroupCommit', () => {
  it('starts a lone call at once and groups the calls that arrive while it runs', async () => {
    const { commit, groups, finish } = held();
    const first = commit.submit(1);
    expect(groups).toEqual([[1]]);
    const rest = [commit.submit(2), commit.submit(3)];
    expect(groups).toEqual([[1]]);
    finish();
    expect(await first).toBe(2);
    await Promise.resolve();
    expect(groups).toEqual([[1], [2, 3]]);
    finish();
    expect(await Promise.all(rest)).toEqual([4, 6]);
  });

  it('keeps a group within maxSize, in arrival order, and lets an oversized call go alone', async () => {
    const { commit, groups, finish } = held(5);
    const calls = [1, 2, 3, 4, 9, 1].map((n) => commit.submit(n));
    for (let i = 0; i < 5; i++) {
      finish();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(calls)).toEqual([2, 4, 6, 8, 18, 2]);
    expect(groups).toEqual([[1], [2, 3], [4], [9], [1]]);
  });

  it('counts the summed size of the calls waiting, not of the group running', async () => {
    const { commit, finish } = held(5);
    const calls = [2, 3, 4, 1].map((n) => commit.submit(n));
    // 2 runs; 3, 4 and 1 wait.
    expect(commit.backlog).toBe(8);
    finish();
    await new Promise((r) => setImmediate(r));
    // 3 runs (3 + 4 would pass 5), 4 and 1 wait.
    expect(commit.backlog).toBe(5);
    finish();
    await new Promise((r) => setImmediate(r));
    expect(commit.backlog).toBe(0);
    finish();
    expect(await Promise.all(calls)).toEqual([4, 6, 8, 2]);
  });

  it('rejects every member a failed group did not answer; the next group still runs', async () => {
    let round = 0;
    const commit = new GroupCommit<string, string>(
      (group) => {
        round++;
        if (round === 2) {
          group[0].resolve('answered before the failure');
          return Promise.reject(new Error('insert failed'));
        }
        for (const m of group) m.resolve(m.input);
        return Promise.resolve();
      },
      () => 1,
      10,
    );
    const first = commit.submit('a');
    const failed = [commit.submit('b'), commit.submit('c'), commit.submit('d')];
    await first;
    const outcomes = await Promise.allSettled(failed);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual([
      'answered before the failure',
      'insert failed',
      'insert failed',
    ]);
    expect(await commit.submit('e')).toBe('e');
  });
});
