import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rejectionOf } from '#app/testing';
import { OrchestratorWebhookError, OrchestratorWebhookErrorCode } from './orchestrator-webhook.js';
import { WEBHOOK_CACHE_MS, WebhookOrchestrators } from './orchestrator-sources.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A real webhook on 127.0.0.1, a new one (new port) each test; each test sets how it answers. */
let server: Server;
let handler: Handler;
let requests: IncomingMessage[] = [];
let base: string;

beforeEach(async () => {
  requests = [];
  server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  vi.restoreAllMocks();
  server.closeAllConnections(); // the webhooks that never answer
  await new Promise((resolve) => server.close(resolve));
});

const json =
  (body: unknown, status = 200): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

const refusal = (p: Promise<unknown>) => rejectionOf(p, OrchestratorWebhookError);

// A query token and userinfo, as a webhook URL may carry: neither may reach a message or a log.
const SECRET = 's3cr3t-token';
const webhookUrl = () => `http://ops:${SECRET}@${base.slice('http://'.length)}/orchestrators?token=${SECRET}`;

describe('WebhookOrchestrators (go-livepeer -orchWebhookUrl)', () => {
  it('lists the dialable addresses, skipping (and logging) the others', async () => {
    const logged = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    handler = json([
      { address: 'https://10.4.3.2:8935', score: 0.9 },
      { address: 'https://o2.example.com:8935/', score: null },
      { address: 'http://10.4.3.3:8935', score: 1 },
      { address: 'https://10.4.3.2:8935' },
      { score: 1 },
      { address: 'https://10.4.3.4:8935', score: 'high' },
      'https://10.4.3.5:8935',
      { address: 'https://ops:pw-in-entry@10.4.3.6:8935' },
    ]);
    const urls = await new WebhookOrchestrators(webhookUrl()).serviceUrls();
    expect(urls).toEqual(['https://10.4.3.2:8935', 'https://o2.example.com:8935']);

    const skipped = logged.mock.calls.map(([m]) => m as { msg: string; entry: number; reason: string });
    expect(skipped.map((m) => [m.msg, m.entry])).toEqual([
      ['orchestrator webhook entry skipped', 2],
      ['orchestrator webhook entry skipped', 4],
      ['orchestrator webhook entry skipped', 5],
      ['orchestrator webhook entry skipped', 6],
      ['orchestrator webhook entry skipped', 7],
    ]);
    expect(skipped[0].reason).toMatch(/https only/);
    expect(skipped[3].reason).toBe('the entry is not an object');
    expect(JSON.stringify(logged.mock.calls)).not.toContain(SECRET);
    expect(JSON.stringify(logged.mock.calls)).not.toContain('pw-in-entry');
  });

  it('GETs the URL with its query, its userinfo sent as Basic auth', async () => {
    handler = json([]);
    await new WebhookOrchestrators(webhookUrl()).serviceUrls();
    expect(requests).toHaveLength(1);
    expect(requests[0].method).toBe('GET');
    expect(requests[0].url).toBe(`/orchestrators?token=${SECRET}`);
    expect(requests[0].headers.authorization).toBe(
      `Basic ${Buffer.from(`ops:${SECRET}`).toString('base64')}`,
    );
  });

  it('refuses an answer other than HTTP 200', async () => {
    handler = json([{ address: 'https://10.4.3.2:8935' }], 204);
    const err = await refusal(new WebhookOrchestrators(webhookUrl()).serviceUrls());
    expect(err.code).toBe(OrchestratorWebhookErrorCode.HTTP_STATUS);
    expect(err.message).toBe('the orchestrator webhook answered HTTP 204');
  });

  it('refuses a body that is not JSON, or JSON that is not an array', async () => {
    handler = (_req, res) => void res.end('[{"address": ');
    const notJson = await refusal(new WebhookOrchestrators(webhookUrl()).serviceUrls());
    expect(notJson.code).toBe(OrchestratorWebhookErrorCode.MALFORMED);
    expect(notJson.message).toMatch(/not JSON/);

    handler = json({ orchestrators: [{ address: 'https://10.4.3.2:8935' }] });
    const notList = await refusal(new WebhookOrchestrators(webhookUrl()).serviceUrls());
    expect(notList.code).toBe(OrchestratorWebhookErrorCode.MALFORMED);
    expect(notList.message).toMatch(/not an array/);
  });

  it('refuses a body over 1 MiB, declared or streamed, without reading it all', async () => {
    const big = `[${'"x",'.repeat(300_000)}"x"]`; // 1.2 MB of valid JSON
    handler = (_req, res) => void res.writeHead(200, { 'content-length': Buffer.byteLength(big) }).end(big);
    const declared = await refusal(new WebhookOrchestrators(webhookUrl()).serviceUrls());
    expect(declared.code).toBe(OrchestratorWebhookErrorCode.TOO_LARGE);
    expect(declared.message).toBe('the orchestrator webhook answered more than 1048576 bytes');

    // Chunked, no length: refused once the bound is passed.
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 4; i++) res.write(big.slice(i * 300_000, (i + 1) * 300_000));
      res.end(big.slice(1_200_000));
    };
    const streamed = await refusal(new WebhookOrchestrators(webhookUrl()).serviceUrls());
    expect(streamed.code).toBe(OrchestratorWebhookErrorCode.TOO_LARGE);
  });

  it('gives up on a webhook that does not answer in time', async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    const err = await refusal(new WebhookOrchestrators(webhookUrl(), { timeoutMs: 200 }).serviceUrls());
    expect(err.code).toBe(OrchestratorWebhookErrorCode.TIMEOUT);
    expect(err.message).toBe('the orchestrator webhook did not answer within 200 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('gives up on a body that stalls past the deadline', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[{"address": "https://10.4.3.2:8935"}'); // and never the rest
    };
    const err = await refusal(new WebhookOrchestrators(webhookUrl(), { timeoutMs: 200 }).serviceUrls());
    expect(err.code).toBe(OrchestratorWebhookErrorCode.TIMEOUT);
  });

  it('refuses an unreachable webhook, the URL in no message', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const err = await refusal(
      new WebhookOrchestrators(`http://ops:${SECRET}@127.0.0.1:${port}/?token=${SECRET}`).serviceUrls(),
    );
    expect(err.code).toBe(OrchestratorWebhookErrorCode.UNREACHABLE);
    expect(err.message).toBe('the orchestrator webhook is unreachable');
    expect(JSON.stringify(err)).not.toContain(SECRET);
  });

  it('reuses a good answer for a minute; a failed call is not reused', async () => {
    let now = 1_000_000;
    const source = new WebhookOrchestrators(webhookUrl(), { now: () => now });
    handler = json([], 503);
    await refusal(source.serviceUrls());
    handler = json([{ address: 'https://10.4.3.2:8935' }]);
    expect(await source.serviceUrls()).toEqual(['https://10.4.3.2:8935']);
    expect(requests).toHaveLength(2);

    handler = json([{ address: 'https://10.4.3.9:8935' }]);
    now += WEBHOOK_CACHE_MS - 1;
    expect(await source.serviceUrls()).toEqual(['https://10.4.3.2:8935']);
    expect(requests).toHaveLength(2);

    now += 1;
    expect(await source.serviceUrls()).toEqual(['https://10.4.3.9:8935']);
    expect(requests).toHaveLength(3);

    // Past the minute a failed call fails, the stale answer is not served (the pool keeps its own).
    handler = json([], 500);
    now += WEBHOOK_CACHE_MS;
    await refusal(source.serviceUrls());
  });
});
