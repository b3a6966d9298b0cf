import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANVIL_PRIVATE_KEYS, buildServices, startDevStack, type DevStack } from '#app/testing';
import { encode, RawGrpc } from '../../integration/fuzz/raw-grpc.js';

/**
 * The whole system as `npm start` runs it (four services, ops API, demo broadcaster paying until
 * a winning ticket is redeemed), then every error path we can reach with wrong tokens and bad
 * input. Every byte the services printed and every response we got must be free of every secret,
 * in every encoding a key or token could leak in. Run once per log format: the JSON logger
 * serialises context objects the text one only summarises.
 */
export function secretLeakSuite(logFormat: 'text' | 'json'): void {
  describe(`no secret leaks from a full run (${logFormat} logs)`, () => {
    let stack: DevStack;
    let stateDir: string;
    const output = () => stack.output();
    /** Bodies, statuses, details and trailers of every response we got. */
    const responses: string[] = [];

    beforeAll(() => {
      buildServices();
      stack = startDevStack('leak', { LOG_FORMAT: logFormat });
      stateDir = stack.stateDir;
    });

    afterAll(async () => {
      const proc = stack?.proc;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGINT');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
        await stack.exited;
        clearTimeout(timer);
      }
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    }, 90_000);

    /** `name  http://127.0.0.1:P/health  gRPC 127.0.0.1:Q` lines printed once all are healthy. */
    function endpoints(): Record<string, { http: string; grpc?: string }> {
      const found: Record<string, { http: string; grpc?: string }> = {};
      for (const m of output().matchAll(
        / {2}([a-z-]+) +(http:\/\/127\.0\.0\.1:\d+)\/health(?: +gRPC (\S+))?/g,
      )) {
        found[m[1]] = { http: m[2], grpc: m[3] };
      }
      return found;
    }

    const demo = (file: string) => readFileSync(join(stateDir, 'demo', file), 'utf8').trim();

    /** Every line the services wrote to their log files (npm start keeps them off the console). */
    const serviceLogs = (): string[] =>
      [...SERVICES].flatMap((name) => {
        const file = join(stateDir, 'logs', `${name}.log`);
        return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
      });

    async function http(url: string, init?: RequestInit): Promise<number> {
      const res = await fetch(url, init);
      const body = await res.text();
      responses.push(`${res.status} ${url} ${JSON.stringify([...res.headers])} ${body}`);
      return res.status;
    }

    async function grpc(client: RawGrpc, path: string, body: Uint8Array, md?: Metadata): Promise<void> {
      const out = await client.call(path, body, md);
      responses.push(
        `${out.code} ${path} ${out.details} ${out.errorCode ?? ''} ${out.errorDomain ?? ''} ${out.response?.toString('latin1') ?? ''}`,
      );
    }

    it('reaches a redeemed winning ticket', async () => {
      const deadline = Date.now() + 240_000;
      while (stack.redeemed() < 1) {
        if (stack.proc.exitCode !== null)
          throw new Error(`the stack exited (${stack.proc.exitCode}):\n${output()}`);
        if (Date.now() > deadline)
          throw new Error(`no redeemed ticket within 240 s:\n${output().slice(-5000)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }, 300_000);

    it('walks the APIs with right and wrong tokens and bad input', async () => {
      const ep = endpoints();
      expect(Object.keys(ep)).toEqual(
        expect.arrayContaining(['sender', 'recipient', 'sender-monitor', 'redeemer']),
      );
      for (const { http: base } of Object.values(ep)) {
        await http(`${base}/health`);
        await http(`${base}/metrics`);
      }
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
      if (ep.ops) {
        const ops = ep.ops.http;
        for (const path of [
          '/api/v1/totals',
          '/api/v1/tickets',
          '/api/v1/senders',
          '/api/v1/queue',
          '/api/v1/failures',
        ]) {
          expect(await http(`${ops}${path}`, { headers: bearer(demo('ops-api-token')) })).toBe(200);
          expect(await http(`${ops}${path}`, { headers: bearer('wrong-token') })).toBe(401);
          await http(`${ops}${path}`);
        }
        await http(`${ops}/api/v1/tickets/0xzz`, { headers: bearer(demo('ops-api-token')) });
        await http(`${ops}/api/v1/tickets/${'0x'.padEnd(66, '1')}/redeem`, {
          method: 'POST',
          headers: bearer(demo('ops-api-token')),
        });
        await http(`${ops}/docs/openapi.json`);
      }
      const redeemer = ep.redeemer.http;
      expect(await http(`${redeemer}/ops/status`, { headers: bearer(demo('redeemer-ops-token')) })).toBe(200);
      expect(await http(`${redeemer}/ops/status`, { headers: bearer('nope') })).toBe(401);
      await http(`${redeemer}/ops/fees/withdraw`, { method: 'POST', headers: bearer('nope') });

      const sender = new RawGrpc(ep.sender.grpc!);
      const recipient = new RawGrpc(ep.recipient.grpc!);
      const monitor = new RawGrpc(ep['sender-monitor'].grpc!);
      try {
        const auth = (token: string) => {
          const md = new Metadata();
          md.set('authorization', `Bearer ${token}`);
          return md;
        };
        const start = encode('ticketpay.sender.v1.StartSessionRequest', { sender: Buffer.alloc(20, 1) });
        await grpc(sender, '/ticketpay.sender.v1.Sender/StartSession', start, auth('wrong-token'));
        await grpc(sender, '/ticketpay.sender.v1.Sender/StartSession', start);
        await grpc(sender, '/ticketpay.sender.v1.Sender/StartSession', start, auth(demo('api-token')));
        await grpc(
          sender,
          '/ticketpay.sender.v1.Sender/StartSession',
          Buffer.from([0xff, 0xff]),
          auth(demo('api-token')),
        );
        await grpc(
          sender,
          '/ticketpay.sender.v1.Sender/CreateTicketBatch',
          encode('ticketpay.sender.v1.CreateTicketBatchRequest', { sessionId: 'nope', size: 5 }),
          auth(demo('api-token')),
        );
        await grpc(sender, '/ticketpay.sender.v1.Sender/Senders', new Uint8Array(), auth(demo('api-token')));
        await grpc(
          recipient,
          '/ticketpay.recipient.v1.Recipient/ProcessPayment',
          Buffer.from([0x0a, 0x05, 1]),
        );
        await grpc(
          recipient,
          '/ticketpay.recipient.v1.Recipient/ProcessPayment',
          encode('ticketpay.recipient.v1.ProcessPaymentRequest', { paymentHeader: 'not base64 !!' }),
        );
        await grpc(
          recipient,
          '/ticketpay.recipient.v1.Recipient/GetTicketParams',
          encode('ticketpay.recipient.v1.GetTicketParamsRequest', { sender: Buffer.alloc(20, 2) }),
        );
        await grpc(monitor, '/net.TicketRedeemer/QueueTicket', Buffer.from([0x12, 0x03, 1, 2, 3]));
        await grpc(
          monitor,
          '/ticketpay.sendermonitor.v1.SenderMonitor/MaxFloat',
          encode('ticketpay.sendermonitor.v1.MaxFloatRequest', { sender: 'zz', recipient: '0x1' }),
        );
      } finally {
        sender.close();
        recipient.close();
        monitor.close();
      }
      expect(responses.length).toBeGreaterThan(20);
    }, 60_000);

    it('no secret appears in any output or response, in any encoding', () => {
      const secrets: Record<string, string> = {
        'demo sender private key': ANVIL_PRIVATE_KEYS[2],
        'redeemer private key': ANVIL_PRIVATE_KEYS[1],
        'keystore password': demo('keystore-password'),
        'sender API token': demo('api-token'),
        'recipient secret key': demo('recipient-secret-key'),
        'ops API token': demo('ops-api-token'),
        'redeemer ops token': demo('redeemer-ops-token'),
      };
      const haystack = `${output()}\n${serviceLogs().join('\n')}\n${responses.join('\n')}`;
      const lower = haystack.toLowerCase();
      for (const [what, secret] of Object.entries(secrets)) {
        for (const form of encodings(secret)) {
          expect(lower.includes(form.toLowerCase()), `${what} leaked as ${form.slice(0, 6)}…`).toBe(false);
        }
      }
      // The services' own lines (not the stack's, which prints where its dev stores run) never
      // carry a connection URL: those on the console and those in their log files.
      const serviceLines = [
        ...output()
          .split('\n')
          .map(stripAnsi)
          .filter((l) => SERVICES.has(l.split('│')[0].trim())),
        ...serviceLogs(),
      ];
      expect(serviceLogs().length).toBeGreaterThan(10);
      if (logFormat === 'json') {
        // The services really logged JSON (one object a line), so this run covered that logger.
        const bodies = serviceLogs()
          .map(stripAnsi)
          .filter((l) => l.startsWith('{'));
        expect(bodies.length).toBeGreaterThan(10);
        for (const body of bodies) expect(() => JSON.parse(body) as unknown).not.toThrow();
      }
      for (const line of serviceLines)
        expect(line).not.toMatch(/postgres(ql)?:\/\/|rediss?:\/\/|http:\/\/127\.0\.0\.1:\d+\/?[",\s]*$/);
      const rpc = /dev chain (http:\/\/\S+),/.exec(output())?.[1];
      expect(rpc).toBeDefined();
      for (const line of serviceLines) expect(line).not.toContain(rpc);
    });

    it('keystores are encrypted at rest: no key material in the files', () => {
      const dir = join(stateDir, 'demo', 'keystores');
      const files = readdirSync(dir);
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        const text = readFileSync(join(dir, f), 'utf8');
        const json = JSON.parse(text) as {
          crypto?: { ciphertext?: string };
          Crypto?: { ciphertext?: string };
        };
        expect((json.crypto ?? json.Crypto)?.ciphertext).toMatch(/^[0-9a-f]{64}$/);
        for (const form of encodings(ANVIL_PRIVATE_KEYS[2]))
          expect(text.toLowerCase()).not.toContain(form.toLowerCase());
      }
    });
  });
}

const SERVICES = new Set(['sender', 'recipient', 'sender-monitor', 'redeemer', 'ops']);

/** Drops terminal colour codes (ESC [ … m) from a line. */
function stripAnsi(line: string): string {
  const parts = line.split(String.fromCharCode(27));
  return (
    parts[0] +
    parts
      .slice(1)
      .map((p) => p.replace(/^\[[0-9;]*m/, ''))
      .join('')
  );
}

/** The forms a secret can leak in: as is, hex without 0x, base64 / base64url of its bytes. */
function encodings(secret: string): string[] {
  const forms = new Set([secret]);
  const hex = secret.replace(/^0x/, '');
  if (/^[0-9a-fA-F]+$/.test(hex) && hex.length % 2 === 0) {
    forms.add(hex);
    const bytes = Buffer.from(hex, 'hex');
    forms.add(bytes.toString('base64').replace(/=+$/, ''));
    forms.add(bytes.toString('base64url'));
  }
  forms.add(Buffer.from(secret).toString('base64').replace(/=+$/, ''));
  return [...forms];
}
