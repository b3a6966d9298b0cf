import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SenderConfig } from '../sender.config.js';
import { SignerWebhook } from './signer-webhook.js';

// go-livepeer's webhook client is Go's http.Client: a URL's user:password@ is sent as Basic auth
// unless the configured headers carry an Authorization of their own.

let server: Server;
let seen: IncomingMessage[];
let hostPort: string;

beforeEach(async () => {
  seen = [];
  server = createServer((req, res) => {
    seen.push(req);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":200}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hostPort = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const webhook = (url: string, headers: [string, string][] = []) =>
  new SignerWebhook({
    values: {
      SENDER_REMOTE_SIGNER_WEBHOOK_URL: url,
      SENDER_REMOTE_SIGNER_WEBHOOK_HEADERS: headers,
      SENDER_REMOTE_SIGNER_WEBHOOK_TIMEOUT_MS: 2_000,
    },
  } as unknown as SenderConfig);

const basic = (userinfo: string) => `Basic ${Buffer.from(userinfo).toString('base64')}`;

describe('SignerWebhook (go-livepeer -remoteSignerWebhookUrl)', () => {
  it("sends a URL's user:password@ as Basic auth, with the path and query, the URL itself without them", async () => {
    const hook = webhook(`http://gate%40way:p%3Ass@${hostPort}/auth?tenant=7`, [['X-Api-Key', 'k']]);
    await expect(hook.authorize({}, {})).resolves.toMatchObject({ authId: '' });
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe('/auth?tenant=7');
    expect(seen[0].headers.authorization).toBe(basic('gate@way:p:ss'));
    expect(seen[0].headers['x-api-key']).toBe('k');
    expect(seen[0].headers['content-type']).toBe('application/json');
    expect(JSON.stringify(hook)).not.toContain('p%3Ass');
  });

  it('lets a configured Authorization header win over the URL, as Go does', async () => {
    await webhook(`http://u:pw@${hostPort}/`, [['authorization', 'Bearer abc']]).authorize({}, {});
    expect(seen[0].headers.authorization).toBe('Bearer abc');
  });

  it('sends no Authorization when neither the URL nor the headers carry one', async () => {
    await webhook(`http://${hostPort}/`).authorize({}, {});
    expect(seen[0].headers.authorization).toBeUndefined();
  });

  it("sets headers as Go's Header.Set does: one value per name, the last given wins, Content-Type included", async () => {
    const hook = webhook(`http://${hostPort}/`, [
      ['Content-Type', 'application/vnd.api+json'],
      ['X-Key', 'a'],
      ['x-key', 'b'],
    ]);
    await hook.authorize({}, {});
    expect(seen[0].headers['content-type']).toBe('application/vnd.api+json');
    expect(seen[0].headers['x-key']).toBe('b');
    expect(seen[0].rawHeaders.filter((h) => h.toLowerCase() === 'x-key')).toHaveLength(1);
  });
});

describe('SENDER_REMOTE_SIGNER_WEBHOOK_HEADERS', () => {
  const BASE = { CONTROLLER_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };

  it('takes Key:Value pairs and refuses a value HTTP cannot carry, without echoing it', () => {
    const parsed = SenderConfig.fromEnv({
      ...BASE,
      SENDER_REMOTE_SIGNER_WEBHOOK_HEADERS: 'X-A: 1 ,X-B:two\tthree',
    });
    expect(parsed.values.SENDER_REMOTE_SIGNER_WEBHOOK_HEADERS).toEqual([
      ['X-A', '1'],
      ['X-B', 'two\tthree'],
    ]);
    for (const bad of ['X-A:s3cret\u0001', 'X-A:s3cret\u00e9']) {
      expect(() => SenderConfig.fromEnv({ ...BASE, SENDER_REMOTE_SIGNER_WEBHOOK_HEADERS: bad })).toThrow(
        /X-A must be printable ASCII/,
      );
      try {
        SenderConfig.fromEnv({ ...BASE, SENDER_REMOTE_SIGNER_WEBHOOK_HEADERS: bad });
      } catch (err) {
        expect((err as Error).message).not.toContain('s3cret');
      }
    }
  });
});
