import { describe, expect, it } from 'vitest';
import { rejectionOf } from './rejection.js';

class Refused extends Error {}

describe('rejectionOf', () => {
  it('gives the rejection of its type, and fails on a resolution or another rejection', async () => {
    const refused = new Refused('no');
    expect(await rejectionOf(Promise.reject(refused), Refused)).toBe(refused);
    await expect(rejectionOf(Promise.resolve(1), Refused)).rejects.toThrow(/Refused; it resolved/);
    await expect(rejectionOf(Promise.reject(new Error('other')), Refused)).rejects.toThrow(
      /got: Error: other/,
    );
  });
});
