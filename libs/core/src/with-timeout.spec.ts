import { describe, expect, it } from 'vitest';
import { withTimeout } from './with-timeout.js';

describe('withTimeout', () => {
  it('answers what the work answers, or its rejection', async () => {
    await expect(withTimeout(Promise.resolve(7), 1_000, 'late')).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('boom')), 1_000, 'late')).rejects.toThrow('boom');
  });

  it('rejects with the given message when the work does not settle in time', async () => {
    await expect(withTimeout(new Promise(() => undefined), 5, 'step X did not finish')).rejects.toThrow(
      'step X did not finish',
    );
  });
});
