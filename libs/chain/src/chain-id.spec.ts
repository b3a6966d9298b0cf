import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChainError, ChainErrorCode } from './chain.error.js';
import { readChainId } from './chain-id.js';

/** What the URL carries that must never reach a message. */
const SECRET_PATH = '/v3/k3y-in-the-path';
const PASSWORD = 'pa55word-secret';

describe('readChainId', () => {
  let server: Server;
  let port: number;
  let handle: (body: string, res: ServerResponse) => void;
  let seen: { headers: IncomingMessage['headers']; body: string }[];

  const url = (auth = '') => `http://${auth}127.0.0.1:${port}${SECRET_PATH}?key=q5ecret`;

  /** The CHAIN_UNAVAILABLE error `readChainId` fails with; its message never shows the URL. */
  const refusal = async (rpcUrl: string, timeoutMs = 2_000): Promise<ChainError> => {
    const err = await readChainId(rpcUrl, timeoutMs).then(
      () => expect.fail('resolved'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ChainError);
    expect((err as ChainError).code).toBe(ChainErrorCode.CHAIN_UNAVAILABLE);
    for (const secret of [SECRET_PATH, 'q5ecret', PASSWORD, String(port)])
      expect((err as ChainError).message).not.toContain(secret);
    return err as ChainError;
  };

  const answer = (json: unknown, status = 200) => {
    handle = (_body, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof json === 'string' ? json : JSON.stringify(json));
    };
  };

  beforeEach(async () => {
    seen = [];
    answer({ jsonrpc: '2.0', id: 1, result: '0xa4b1' });
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ headers: req.headers, body });
        handle(body, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('asks eth_chainId once as JSON-RPC and gives the chain id', async () => {
    await expect(readChainId(url(), 2_000)).resolves.toBe(42161n);
    expect(seen).toHaveLength(1);
    expect(JSON.parse(seen[0].body)).toMatchObject({ jsonrpc: '2.0', method: 'eth_chainId', params: [] });
    expect(seen[0].headers['content-type']).toBe('application/json');
  });

  it('sends the credentials a URL carries as Basic auth, as the providers do (fetch refuses such a URL)', async () => {
    await expect(readChainId(url(`alice:${PASSWORD}@`), 2_000)).resolves.toBe(42161n);
    const basic = Buffer.from(`alice:${PASSWORD}`).toString('base64');
    expect(seen[0].headers.authorization).toBe(`Basic ${basic}`);
  });

  it('says which HTTP status the RPC answered', async () => {
    answer('{"oops":true}', 503);
    expect((await refusal(url(`alice:${PASSWORD}@`))).message).toBe(
      'eth_chainId: HTTP 503 Service Unavailable',
    );
  });

  it('says when the answer is not JSON-RPC', async () => {
    answer('<html>gateway</html>');
    expect((await refusal(url())).message).toMatch(/not JSON-RPC/);
  });

  it("gives the node's JSON-RPC error", async () => {
    answer({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32601, message: 'the method eth_chainId does not exist' },
    });
    expect((await refusal(url())).message).toMatch(
      /^eth_chainId: the node returned an error: the method eth_chainId does not exist$/,
    );
  });

  it.each([['0x'], [''], ['0x0'], ['42161'], ['0xzz'], [42161], [null], [`0x${'f'.repeat(65)}`]])(
    'refuses %j as a chain id',
    async (result) => {
      answer({ jsonrpc: '2.0', id: 1, result });
      expect((await refusal(url())).message).toMatch(/not a chain id/);
    },
  );

  it('says when nothing listens, and when the RPC does not answer in time', async () => {
    handle = () => undefined;
    expect((await refusal(url(), 200)).message).toMatch(/no answer within 0\.2 s/);
    const closed = port;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const err = await refusal(`http://127.0.0.1:${closed}${SECRET_PATH}`);
    expect(err.message).toMatch(/ECONNREFUSED/);
    server = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
  });
});
