import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { FetchRequest, isError, type FetchCancelSignal } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { httpGetUrl } from './http-get-url.js';

describe('httpGetUrl', () => {
  let server: Server;
  let url: string;
  let handle: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;
  /** Requests the server saw, with their bodies. */
  let seen: { method: string; headers: IncomingMessage['headers']; body: string }[];

  const request = (configure: (r: FetchRequest) => void = () => undefined) => {
    const req = new FetchRequest(url);
    req.getUrlFunc = httpGetUrl;
    configure(req);
    return req;
  };

  beforeEach(async () => {
    seen = [];
    handle = (_req, _body, res) => res.end('ok');
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push({ method: req.method ?? '', headers: req.headers, body: body.toString('utf8') });
        handle(req, body, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rpc`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends the method, headers and body, and gives the whole answer of many chunks in order', async () => {
    const parts = Array.from(
      { length: 60 },
      (_, i) => `${String(i).padStart(2, '0')}:${'x'.repeat(20_000)}|`,
    );
    handle = (_req, _body, res) => {
      res.writeHead(201, 'Made', { 'content-type': 'application/json', 'x-twice': ['a', 'b'] });
      let i = 0;
      const next = () => (i < parts.length ? res.write(parts[i++], () => setImmediate(next)) : res.end());
      next();
    };
    const req = request((r) => {
      r.body = Buffer.from('{"jsonrpc":"2.0"}');
      r.setHeader('content-type', 'application/json');
      r.setHeader('x-key', 'k1');
    });
    const res = await req.send();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', body: '{"jsonrpc":"2.0"}' });
    expect(seen[0].headers).toMatchObject({ 'content-type': 'application/json', 'x-key': 'k1' });
    expect(res.statusCode).toBe(201);
    expect(res.statusMessage).toBe('Made');
    expect(res.headers['x-twice']).toBe('a, b');
    expect(res.bodyText).toBe(parts.join(''));
  });

  it('answers a body-less response with no body, and unzips a gzip one', async () => {
    handle = (_req, _body, res) => res.writeHead(204).end();
    expect((await request().send()).body).toBeNull();
    handle = (_req, _body, res) =>
      res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('unzipped'));
    expect((await request().send()).bodyText).toBe('unzipped');
  });

  it('refuses a gzip answer that does not unzip as bad response data', async () => {
    handle = (_req, _body, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end('not gzip');
    const err: unknown = await request()
      .send()
      .catch((e: unknown) => e);
    expect(isError(err, 'SERVER_ERROR')).toBe(true);
    expect((err as Error).message).toContain('bad response data');
  });

  it('times out a request the server does not answer, and ends it', async () => {
    let closed!: Promise<void>;
    handle = (req) => {
      closed = new Promise((resolve) => req.socket.once('close', () => resolve()));
    };
    const err: unknown = await request((r) => (r.timeout = 200))
      .send()
      .catch((e: unknown) => e);
    expect(isError(err, 'TIMEOUT')).toBe(true);
    await closed; // the socket was closed rather than left waiting for the answer
  });

  it('is cancelled through its FetchRequest, and never sends once cancelled', async () => {
    handle = () => undefined; // never answers
    const req = request();
    const pending = req.send().catch((e: unknown) => e);
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    req.cancel();
    expect(isError(await pending, 'CANCELLED')).toBe(true);
    const cancelled = { cancelled: true } as FetchCancelSignal;
    await expect(httpGetUrl(request(), cancelled)).rejects.toSatisfy((e: unknown) => isError(e, 'CANCELLED'));
    expect(seen).toHaveLength(1);
  });

  it('refuses other protocols and credentials over plain HTTP, sending nothing', async () => {
    await expect(httpGetUrl(new FetchRequest('ftp://127.0.0.1/x'))).rejects.toSatisfy((e: unknown) =>
      isError(e, 'UNSUPPORTED_OPERATION'),
    );
    const withAuth = request((r) => r.setCredentials('user', 'secret'));
    await expect(httpGetUrl(withAuth)).rejects.toSatisfy((e: unknown) => isError(e, 'UNSUPPORTED_OPERATION'));
    expect(seen).toHaveLength(0);
    withAuth.allowInsecureAuthentication = true;
    await httpGetUrl(withAuth);
    expect(seen[0].headers.authorization).toBe(`Basic ${Buffer.from('user:secret').toString('base64')}`);
  });

  it('rejects with the socket error when the server goes away', async () => {
    handle = (req) => req.socket.destroy();
    const err: unknown = await httpGetUrl(request()).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNRESET');
  });
});
