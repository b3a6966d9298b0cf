import { describe, expect, it } from 'vitest';
import { RepeatNotice } from './repeat-notice.js';

describe('RepeatNotice', () => {
  it('reports a key the first time, then once per interval while it lasts, anew after clear', () => {
    let now = 0;
    const notice = new RepeatNotice(60_000, () => now);
    expect(notice.due('tx-1')).toBe(true);
    now = 2_000;
    expect(notice.due('tx-1')).toBe(false);
    expect(notice.due('tx-2')).toBe(true);
    now = 60_000;
    expect(notice.due('tx-1')).toBe(true);
    expect(notice.due('tx-1')).toBe(false);
    notice.clear('tx-1');
    expect(notice.due('tx-1')).toBe(true);
  });

  it('forgets the oldest key past its bound', () => {
    const notice = new RepeatNotice(60_000, () => 0, 2);
    notice.due('a');
    notice.due('b');
    notice.due('c');
    expect(notice.due('a')).toBe(true);
    expect(notice.due('c')).toBe(false);
  });
});
