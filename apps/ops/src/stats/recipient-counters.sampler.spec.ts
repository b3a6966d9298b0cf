import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OpsConfig } from '../ops.config.js';
import { RecipientCountersSampler, START_GRACE_MS } from './recipient-counters.sampler.js';

/** A /metrics endpoint that fails until `up` is set. */
async function recipient(): Promise<{ url: string; server: Server; state: { up: boolean } }> {
  const state = { up: false };
  const server = createServer((_req, res) => {
    if (!state.up) return void res.writeHead(503).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ticketpay_tickets_recv_total{sender="a"} 7\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, server, state };
}

describe('RecipientCountersSampler', () => {
  let endpoint: Awaited<ReturnType<typeof recipient>>;
  const warn = vi.spyOn(Logger.prototype, 'warn');

  beforeEach(async () => {
    endpoint = await recipient();
    warn.mockReset().mockImplementation(() => undefined);
  });

  afterEach(async () => {
    vi.useRealTimers();
    await new Promise((resolve) => endpoint.server.close(resolve));
  });

  afterAll(() => warn.mockRestore());

  const sampler = () =>
    new RecipientCountersSampler({
      values: { OPS_RECIPIENT_METRICS_URLS: [endpoint.url], OPS_SAMPLE_INTERVAL_MS: 1_000 },
    } as unknown as OpsConfig);

  it('does not report a Recipient that is still starting, only one still silent after the grace', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const s = sampler();
    await s.sample();
    expect(warn).not.toHaveBeenCalled();
    expect(s.latest()).toBeUndefined();
    vi.setSystemTime(Date.now() + START_GRACE_MS);
    await s.sample();
    await s.sample();
    expect(warn).toHaveBeenCalledTimes(1);
    endpoint.state.up = true;
    await s.sample();
    expect(s.latest()?.ticketsReceived).toBe(7);
  });

  it('reports a Recipient that stops answering at once, even within the grace', async () => {
    const s = sampler();
    endpoint.state.up = true;
    await s.sample();
    endpoint.state.up = false;
    await s.sample();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(s.latest()?.ticketsReceived).toBe(7);
  });
});
