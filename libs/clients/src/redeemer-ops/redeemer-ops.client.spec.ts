import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '#app/testing';
import { RedeemerErrorCode } from './redeemer.error.js';
import { RedeemerOpsCallError, RedeemerOpsHttpClient } from './redeemer-ops.client.js';

const TOKEN = 'unit-redeemer-ops-token-0123456789';
const HASH = `0x${'ab'.repeat(32)}`;

interface Seen {
  method?: string;
  url?: string;
  auth?: string;
  body?: unknown;
}

let server: Server | undefined;

/** A Redeemer stand-in answering every request with `status` and `body`; records the last request. */
async function answering(status: number, body: string): Promise<{ baseUrl: string; seen: Seen }> {
  const seen: Seen = {};
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      Object.assign(seen, {
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        body: JSON.parse(text) as unknown,
      });
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

const failure = (call: Promise<unknown>) => rejectionOf(call, RedeemerOpsCallError);

describe('RedeemerOpsHttpClient', () => {
  it('posts redeem-now to the contract route with the bearer token and reads the job action', async () => {
    const { baseUrl, seen } = await answering(202, '{"ticketHash":"x","job":"promoted"}');
    const client = new RedeemerOpsHttpClient({ baseUrl: `${baseUrl}/`, token: TOKEN }, 5_000);
    expect(await client.redeemNow(HASH, true)).toEqual({ job: 'promoted' });
    expect(seen).toEqual({
      method: 'POST',
      url: `/ops/tickets/${HASH}/redeem`,
      auth: `Bearer ${TOKEN}`,
      body: { ignoreGasLimits: true },
    });
  });

  it('sends amounts as decimal wei and reads them back as bigint', async () => {
    const amount = 2n ** 200n + 7n;
    const { baseUrl, seen } = await answering(
      200,
      JSON.stringify({ txHash: '0x01', status: 'mined', amount: amount.toString(), to: '0x02' }),
    );
    const client = new RedeemerOpsHttpClient({ baseUrl, token: TOKEN }, 5_000);
    expect(await client.withdrawFees({ amount })).toEqual({ txHash: '0x01', amount, to: '0x02' });
    expect(seen.url).toBe('/ops/fees/withdraw');
    expect(seen.body).toEqual({ amount: amount.toString() });
  });

  it('a coded refusal carries the code and the message', async () => {
    const { baseUrl } = await answering(
      409,
      '{"domain":"redeemer","code":"TICKET_FINAL","message":"it is redeemed"}',
    );
    const err = await failure(
      new RedeemerOpsHttpClient({ baseUrl, token: TOKEN }, 5_000).redeemNow(HASH, false),
    );
    expect(err.reason).toBe('refused');
    expect(err.is(RedeemerErrorCode.TICKET_FINAL)).toBe(true);
    expect(err.details).toMatchObject({ status: 409, refusal: 'it is redeemed' });
  });

  it('a success it cannot read is unexpected, not success', async () => {
    const { baseUrl } = await answering(202, '{"job":"exploded"}');
    const err = await failure(
      new RedeemerOpsHttpClient({ baseUrl, token: TOKEN }, 5_000).redeemNow(HASH, false),
    );
    expect(err.reason).toBe('unexpected');
    await new Promise((resolve) => server!.close(resolve));
    const fees = await answering(200, '{"txHash":"0x01","amount":"-1","to":"0x02"}');
    const bad = await failure(
      new RedeemerOpsHttpClient({ baseUrl: fees.baseUrl, token: TOKEN }, 5_000).withdrawFees({}),
    );
    expect(bad.reason).toBe('unexpected');
  });

  it('no answer is unavailable, and neither the URL nor the token appears in the error', async () => {
    const { baseUrl } = await answering(200, '{}');
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const err = await failure(
      new RedeemerOpsHttpClient({ baseUrl, token: TOKEN }, 5_000).redeemNow(HASH, false),
    );
    expect(err.reason).toBe('unavailable');
    expect(err.details.transport).toBe('ECONNREFUSED');
    expect(err.message).not.toContain(TOKEN);
    expect(err.message).not.toContain(baseUrl);
  });
});
