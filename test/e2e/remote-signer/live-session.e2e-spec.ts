import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildServices,
  freePort,
  startServiceProcess,
  waitForHttpOk,
  type ServiceProcess,
} from '#app/testing';
import { Rational } from '#app/ticket';
import { RecipientClient } from '#app/clients';
import {
  startHarness,
  type RecipientHarness,
  type TestSender,
} from '../../integration/recipient/recipient-fixture.js';
import { writeKeystore } from '../../integration/sender/sender-fixture.js';
import {
  LiveGatewaySession,
  type LiveJobType,
  type PaymentOutcome,
} from '../../support/live-gateway/live-gateway.js';
import {
  LiveOrchestrator,
  rationalOf,
  type ReceivedPayment,
} from '../../support/live-gateway/live-orchestrator.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../../support/live-gateway/round-robin-proxy.js';

const SESSION_MS = 60_000;
/** How often each stream asks for a payment (go-livepeer's live gateway pays every few seconds). */
const PAY_EVERY_MS = 2_000;
/** go-livepeer bills `lv2v` as 720p30 video: 1280 × 720 × 30 pixels per second. */
const LV2V_PIXELS_PER_SECOND = 27_648_000n;
/**
 * One stream each. At the Recipient's default EV (8 gwei) the `live` stream (20 gwei per second)
 * pays a few tickets every time; the `lv2v` one (72 wei per pixel, ≈ 2 gwei per second) costs less
 * per interval than one ticket is worth, so the signer answers 482 (balance still covers it)
 * every few calls.
 */
const STREAMS: { type: LiveJobType; pricePerUnit: bigint; unitsPerSecond: bigint }[] = [
  { type: 'live', pricePerUnit: 20_000_000_000n, unitsPerSecond: 1n },
  { type: 'lv2v', pricePerUnit: 72n, unitsPerSecond: LV2V_PIXELS_PER_SECOND },
];
/** A low per-session nonce cap, so the 60 s run goes through several 480 session refreshes. */
const NONCE_CAP = 40;
const TOKEN = `gw-${randomBytes(12).toString('hex')}`;
const PASSWORD = 'e2e-remote-signer-password';

interface StreamLog {
  stream: (typeof STREAMS)[number];
  refreshes: number;
  payments: ReceivedPayment[];
  noTickets: number;
  /** Recipient balance after each debit. */
  balancesAfterDebit: Rational[];
  debited: Rational;
}

/**
 * go-livepeer's remote-signer wire end to end: two Sender replicas (built, real processes, one
 * Redis) behind a round-robin load balancer sign live payments for a gateway client written from
 * go-livepeer's wire definitions; our Recipient validates and credits every payment; the
 * orchestrator side debits the elapsed time after each payment, like a live orchestrator.
 */
describe('remote signer: 60 s live session over two Sender replicas', () => {
  let h: RecipientHarness;
  let sender: TestSender;
  let dir: string;
  const services: ServiceProcess[] = [];
  let lb: RoundRobinProxy;
  let recipient: RecipientClient;
  const logs: StreamLog[] = [];

  beforeAll(async () => {
    buildServices();
    h = await startHarness('remote-signer-e2e');
    sender = await h.newSender();
    dir = mkdtempSync(join(tmpdir(), 'ticketpay-remote-signer-'));
    const keystore = join(dir, 'sender.json');
    await writeKeystore(keystore, sender.wallet.privateKey, PASSWORD);
    writeFileSync(join(dir, 'password'), PASSWORD);
    writeFileSync(
      join(dir, 'tokens.yaml'),
      `clients:\n  - name: gateway\n    token: "${TOKEN}"\n    senders: ["${sender.hex}"]\n`,
    );

    const monitorGrpc = `127.0.0.1:${await freePort()}`;
    const monitorHttp = await freePort();
    const monitor = startServiceProcess('sender-monitor', {
      ...h.env,
      SENDER_MONITOR_GRPC_URL: monitorGrpc,
      SENDER_MONITOR_HTTP_PORT: String(monitorHttp),
      SENDER_MONITOR_RECIPIENTS: h.recipient,
    });
    services.push(monitor);
    await waitForHttpOk(`http://127.0.0.1:${monitorHttp}/health`, monitor);

    const recipientGrpc = `127.0.0.1:${await freePort()}`;
    const recipientHttp = await freePort();
    const recipientSvc = startServiceProcess('recipient', {
      ...h.env,
      RECIPIENT_GRPC_URL: recipientGrpc,
      RECIPIENT_HTTP_PORT: String(recipientHttp),
      RECIPIENT_SENDER_MONITOR_URL: monitorGrpc,
    });
    services.push(recipientSvc);
    await waitForHttpOk(`http://127.0.0.1:${recipientHttp}/health`, recipientSvc);
    recipient = new RecipientClient(recipientGrpc);

    const stateSecret = randomBytes(32).toString('hex');
    const replicaUrls: string[] = [];
    for (let i = 0; i < 2; i++) {
      const httpPort = await freePort();
      const replica = startServiceProcess('sender', {
        REDIS_URL: h.env.REDIS_URL,
        REDIS_PREFIX: `${h.env.REDIS_PREFIX}senders:`,
        ETH_RPC_URL: h.env.ETH_RPC_URL,
        CONTROLLER_ADDRESS: h.env.CONTROLLER_ADDRESS,
        SENDER_GRPC_URL: `127.0.0.1:${await freePort()}`,
        SENDER_HTTP_PORT: String(httpPort),
        SENDER_KEYSTORE_FILES: keystore,
        SENDER_KEYSTORE_PASSWORD_FILE: join(dir, 'password'),
        SENDER_API_TOKENS_FILE: join(dir, 'tokens.yaml'),
        SENDER_NONCE_CAP: String(NONCE_CAP),
        SENDER_NONCE_REFRESH_AT: String(NONCE_CAP),
        SENDER_MAX_BATCH_SIZE: String(NONCE_CAP),
        SENDER_REMOTE_SIGNER: 'true',
        SENDER_REMOTE_SIGNER_STATE_SECRET: stateSecret,
      });
      services.push(replica);
      replicaUrls.push(`http://127.0.0.1:${httpPort}`);
      await waitForHttpOk(`http://127.0.0.1:${httpPort}/health`, replica);
    }
    lb = await startRoundRobinProxy(replicaUrls);
  });

  afterAll(async () => {
    recipient?.close();
    await lb?.stop();
    await Promise.all(services.map((s) => s.stop()));
    await h?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One live stream: pay every PAY_EVERY_MS, then debit the wall time since the last debit. */
  async function runStream(log: StreamLog): Promise<void> {
    const orchestrator = new LiveOrchestrator({
      recipient,
      address: h.recipient,
      transcoderUrl: 'https://orchestrator.invalid:8935',
      pricePerUnit: log.stream.pricePerUnit,
      pixelsPerUnit: 1n,
    });
    const session = await LiveGatewaySession.start({
      signerUrl: lb.url,
      signerHeaders: { authorization: `Bearer ${TOKEN}` },
      orchestrator,
      type: log.stream.type,
    });
    const started = Date.now();
    let lastDebit = started;
    while (Date.now() - started < SESSION_MS) {
      const outcome: PaymentOutcome = await session.pay();
      if (outcome.kind === 'paid') log.payments.push(outcome.received);
      else log.noTickets++;
      const now = Date.now();
      // Billable units (seconds, or pixels) processed since the last debit, to the millisecond, exactly.
      const units = Rational.of(BigInt(now - lastDebit) * log.stream.unitsPerSecond, 1000n);
      lastDebit = now;
      log.debited = log.debited.add(units.mul(Rational.of(log.stream.pricePerUnit)));
      log.balancesAfterDebit.push(await session.debit(units));
      await new Promise((r) => setTimeout(r, Math.max(0, PAY_EVERY_MS - (Date.now() - now))));
    }
    log.refreshes = session.refreshes;
  }

  it('every payment is accepted and credited exactly, balances never run dry, no nonce is reused', async () => {
    for (const stream of STREAMS) {
      logs.push({
        stream,
        refreshes: 0,
        payments: [],
        noTickets: 0,
        balancesAfterDebit: [],
        debited: Rational.ZERO,
      });
    }
    await Promise.all(logs.map((log) => runStream(log)));
    console.log(
      logs
        .map(
          (l) =>
            `${l.stream.type} stream: ${l.payments.length} payments, ` +
            `${l.payments.reduce((n, p) => n + p.nonces.length, 0)} tickets, ${l.noTickets} × 482, ` +
            `${l.refreshes} × 480 refresh`,
        )
        .join('; ') + `; replicas served ${lb.served.join(' / ')} requests`,
    );

    const seen = new Set<string>();
    for (const log of logs) {
      expect(log.payments.length + log.noTickets).toBeGreaterThanOrEqual(SESSION_MS / PAY_EVERY_MS / 2);
      for (const p of log.payments) {
        expect(p.senderHex).toBe(sender.hex);
        expect(p.ticketErrors).toEqual([]);
        expect(p.acceptedCount).toBe(p.nonces.length);
        expect(p.nonces.length).toBeGreaterThan(0);
        expect(p.nonces.length).toBeLessThanOrEqual(100);
        expect(p.credited.toString()).toBe(p.ticketEv.mul(Rational.of(BigInt(p.nonces.length))).toString());
        for (const nonce of p.nonces) {
          const key = `${p.recipientRandHashHex}:${nonce}`;
          expect(seen.has(key), `nonce reused: ${key}`).toBe(false);
          seen.add(key);
        }
      }
      for (const b of log.balancesAfterDebit)
        expect(b.sign(), `balance ${b.toString()}`).toBeGreaterThanOrEqual(0);
      // What the Recipient holds is exactly what was credited less what was debited.
      const credited = log.payments.reduce((sum, p) => sum.add(p.credited), Rational.ZERO);
      const manifestId = log.payments[0].manifestId;
      const balance = await recipient.balance({ sender: sender.address, jobId: manifestId });
      expect(rationalOf(balance.balance).toString()).toBe(credited.sub(log.debited).toString());
    }
    // Both replicas signed; the dear stream went through nonce-cap refreshes (new params, nonces
    // from 1 again), the cheap one through 482s.
    expect(lb.served.every((n) => n > 0)).toBe(true);
    const [dear, cheap] = logs;
    expect(dear.refreshes).toBeGreaterThan(0);
    expect(new Set(dear.payments.map((p) => p.recipientRandHashHex)).size).toBe(dear.refreshes + 1);
    expect(cheap.noTickets).toBeGreaterThan(0);
  }, 180_000);
});
