import { describe, expect, it } from 'vitest';
import { freePort } from './ports.js';

describe('freePort', () => {
  it('never hands out a port it handed out before within its hold, in this process or another', async () => {
    // 200 random picks among 12,768 ports collide with a probability near 80% unless reserved.
    const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    expect(new Set(ports).size).toBe(ports.length);
  });
});
