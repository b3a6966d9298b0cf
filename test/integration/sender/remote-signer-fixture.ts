import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS_CLIENT } from '#app/common';
import { orchestratorInfoCodec, type AuthToken, type OrchestratorInfo } from '#app/proto';
import { bytesToHex, type PriceInfo, type TicketParams } from '#app/ticket';
import { sessionRedisKey } from '../../../apps/sender/src/session/session.store.js';

export const ORCH_URL = 'https://orch-a.invalid:8935';
/** SENDER_REMOTE_SIGNER_STATE_SECRET of the tests (known here so they can forge sealed states). */
export const STATE_SECRET = 'remote-signer-state-secret-0123456789abcdef';

/** An auth token valid for the next 30 minutes, as O hands it out. */
export function authToken(expiresInSeconds = 1800): AuthToken {
  return {
    token: new Uint8Array([1, 2, 3, 4]),
    sessionId: 'orch-session',
    expiration: BigInt(Math.floor(Date.now() / 1000) + expiresInSeconds),
  };
}

/** `net.OrchestratorInfo` bytes as a gateway forwards them, for O's params `p`. */
export function orchestratorInfo(
  p: { params: TicketParams; price: PriceInfo },
  overrides: Partial<OrchestratorInfo> = {},
): Uint8Array {
  return orchestratorInfoCodec.encode({
    transcoder: ORCH_URL,
    ticketParams: p.params,
    priceInfo: p.price,
    address: p.params.recipient,
    capabilities: new Uint8Array(0),
    authToken: authToken(),
    ...overrides,
  });
}

export const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64');

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

/** The `error.code` of a refused call. */
export const errorCode = (a: HttpAnswer): unknown => (a.body.error as { code?: unknown } | undefined)?.code;
export function errorMessage(a: HttpAnswer): string {
  const message = (a.body.error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : '';
}

/** The state blob of an answer, parsed. */
export function stateOf(a: HttpAnswer): Record<string, unknown> {
  const state = a.body.state as { State: string };
  return JSON.parse(Buffer.from(state.State, 'base64').toString('utf8')) as Record<string, unknown>;
}

/** A state the tests seal themselves, as a replica with the shared secret would. */
export function sealState(json: Record<string, unknown> | string): { State: string; Sig: string } {
  const bytes = Buffer.from(typeof json === 'string' ? json : JSON.stringify(json));
  return { State: b64(bytes), Sig: b64(createHmac('sha256', STATE_SECRET).update(bytes).digest()) };
}

/** The last nonce the Sender issued for (sender, recipientRandHash), from Redis; undefined without a session. */
export async function issuedNonce(
  app: INestApplication,
  senderHex: string,
  recipientRandHash: Uint8Array,
): Promise<number | undefined> {
  const redis = app.get<Redis>(REDIS_CLIENT);
  const key = sessionRedisKey({
    senderHex: senderHex.toLowerCase(),
    recipientRandHashHex: bytesToHex(recipientRandHash),
  });
  const nonce = await redis.hget(key, 'nonce');
  return nonce === null ? undefined : Number(nonce);
}

export interface WebhookCall {
  headers: IncomingMessage['headers'];
  body: { headers: Record<string, string[]>; state?: Record<string, unknown> };
}

/** A tiny local auth webhook whose reply each test sets. */
export interface FakeWebhook {
  url: string;
  calls: WebhookCall[];
  /** `'hang-up'` closes the connection unanswered, like a webhook that died mid-request. */
  reply: (
    call: WebhookCall,
  ) => { status: number; body: string; headers?: Record<string, string> } | 'hang-up';
  close(): Promise<void>;
}

export async function startWebhook(): Promise<FakeWebhook> {
  const hook: FakeWebhook = {
    url: '',
    calls: [],
    reply: () => ({ status: 200, body: '{"status":200}' }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const call: WebhookCall = {
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookCall['body'],
      };
      hook.calls.push(call);
      const answer = hook.reply(call);
      if (answer === 'hang-up') {
        req.socket.destroy();
        return;
      }
      res
        .writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers })
        .end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/authorize`;
  return hook;
}
