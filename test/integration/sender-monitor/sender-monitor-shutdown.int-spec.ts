import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { step } from '#app/testing';
import { hexToBytes } from '#app/ticket';
import { startMonitor, ticketRedeemerClient, type MonitorUnderTest } from './harness.js';

// A stream never ends by itself (MonitorMaxFloat, WatchMaxFloat): closing the SenderMonitor ends
// its open streams at once, with UNAVAILABLE, rather than waiting for them until the drain bound,
// set here far beyond the step's limit.
describe('SenderMonitor: closing with streams open', () => {
  let m: MonitorUnderTest;

  beforeAll(async () => {
    m = await startMonitor('sender-monitor-shutdown', { GRPC_DRAIN_MS: '60000' });
  });
  afterAll(async () => {
    await m?.stop();
  });

  it('ends its streams with UNAVAILABLE and closes without waiting for the bound', async () => {
    const net = ticketRedeemerClient(m.grpcUrl);
    const sender = await m.fx.newAccount();
    const stream = net.MonitorMaxFloat({ sender: hexToBytes(sender.address.toLowerCase(), 'sender', 20) });
    const first = new Promise((resolve) => stream.once('data', resolve));
    const ended = new Promise<ServiceError>((resolve) => stream.once('error', resolve));
    await step('the first update', 10_000, first);

    await step('closing the SenderMonitor', 15_000, m.nest.close());
    const err = await step('the end of the stream', 5_000, ended);
    net.close();
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.details).toBe('the server is shutting down');
  });
});
