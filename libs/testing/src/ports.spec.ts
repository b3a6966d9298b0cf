import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './ports.js';

describe('freePort', () => {
  // Its own reservations, so the run's other callers keep the machine's.
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ticketpay-ports-spec-'));
    process.env.TICKETPAY_PORT_RESERVATIONS = dir;
  });
  afterAll(() => {
    delete process.env.TICKETPAY_PORT_RESERVATIONS;
    rmSync(dir, { recursive: true, force: true });
  });

  it('never hands out a port it handed out before within its hold', async () => {
    // 200 random picks among 12,768 ports collide with a probability near 80% unless reserved.
    const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    expect(new Set(ports).size).toBe(ports.length);
  });
});
