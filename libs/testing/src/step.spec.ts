import { describe, expect, it } from 'vitest';
import { step } from './step.js';

describe('step', () => {
  it('names the step and what the process still waits on when it hangs', async () => {
    const timer = setTimeout(() => undefined, 60_000);
    try {
      await expect(step('closing the thing', 20, new Promise(() => undefined))).rejects.toThrow(
        /^closing the thing did not finish within 20 ms; pending: .*Timeout×\d+/,
      );
    } finally {
      clearTimeout(timer);
    }
  });

  it('passes a result or a failure of its own through unchanged', async () => {
    await expect(step('a', 1_000, Promise.resolve(7))).resolves.toBe(7);
    await expect(step('b', 1_000, Promise.reject(new Error('own')))).rejects.toThrow(/^own$/);
  });
});
