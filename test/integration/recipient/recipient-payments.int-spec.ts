import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { ChainClient } from '#app/chain';
import { SignerLease, WinningTicketStatus } from '#app/database';
import { encodePaymentHeader, ticketParamsCodec } from '#app/proto';
import { RedemptionReconciler } from '#app/queue';
import { MAX_WIN_PROB, Rational, SenderMonitor, bytesToHex, ticketEV } from '#app/ticket';
import { ConsoleLogger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Balances, balanceKey } from '../../../apps/recipient/src/balance/balances.service.js';
import { SenderRateLimiter } from '../../../apps/recipient/src/payment/sender-rate-limiter.js';
import { legacyParamsKey, paramsKey } from '../../../apps/recipient/src/nonce/redis-nonce-ledger.js';
import { RECIPIENT_REDIS } from '../../../apps/recipient/src/recipient-redis.js';
import { RedeemerPresence } from '../../../apps/recipient/src/redeemer-presence.js';
import { HealthRunner, MetricsRegistry, bootstrapService } from '#app/common';
import { freePort } from '#app/testing';
import { SENDER_MONITOR_GRPC } from '../../../apps/sender-monitor/src/grpc/sender-monitor.proto-paths.js';
import { SenderMonitorConfig } from '../../../apps/sender-monitor/src/sender-monitor.config.js';
import { SenderMonitorModule } from '../../../apps/sender-monitor/src/sender-monitor.module.js';
import {
  ALWAYS_WIN_UNRECONCILED,
  PRICE,
  errorCodeOf,
  issue,
  paymentMessage,
  paymentOf,
  ratio,
  rrHashOf,
  signBatch,
  startHarness,
  type RecipientHarness,
  type RunningRecipient,
  type TestSender,
} from './recipient-fixture.js';

describe('Recipient: params, payments, accounting, winners', () => {
  let h: RecipientHarness;
  let sender: TestSender;

  beforeAll(async () => {
    h = await startHarness('recipient-payments');
    sender = await h.newSender();
  });
  afterAll(async () => {
    await h?.stop();
  });

  describe('with the default (go-livepeer) settings', () => {
    let r: RunningRecipient;
    beforeAll(async () => {
      r = await h.boot();
    });

    it('issues params as go-livepeer does', async () => {
      const issued = await issue(r, sender);
      const params = ticketParamsCodec.fromMessage(issued.ticketParams);
      const head = await h.anvil.provider.getBlockNumber();
      expect(bytesToHex(params.recipient)).toBe(h.recipient);
      // Default: tx cost × 100, well inside the 10 ETH reserve of a pool of one.
      expect(params.faceValue > 100n * 8_000_000_000n).toBe(true);
      const ev = ticketEV(params.faceValue, params.winProb);
      expect(ev.cmp(Rational.of(8_000_000_000n))).toBeGreaterThanOrEqual(0);
      expect(ev.cmp(Rational.of(8_000_000_001n))).toBeLessThan(0);
      expect(params.expirationBlock).toBeGreaterThanOrEqual(BigInt(head) + 39n);
      expect(params.expirationBlock).toBeLessThanOrEqual(BigInt(head) + 40n);
      expect(params.expirationParams!.creationRound).toBeGreaterThan(0n);
      expect(params.seed).toBeGreaterThan(0n);
      expect(issued.priceInfo).toMatchObject({ pricePerUnit: '1200', pixelsPerUnit: '1' });
      const again = ticketParamsCodec.fromMessage((await issue(r, sender)).ticketParams);
      expect(again.seed).not.toBe(params.seed);
    });

    it('accepts tickets signed over its params and credits each exact EV', async () => {
      const issued = await issue(r, sender);
      const batch = signBatch(issued, sender, [1, 2, 3]);
      const res = await r.client.processPayment({
        payment: paymentMessage(issued, batch),
        jobId: 'job-valid',
      });
      expect(res.tickets.map((t) => [t.senderNonce, t.accepted, t.errorCode])).toEqual([
        [1, true, ''],
        [2, true, ''],
        [3, true, ''],
      ]);
      const params = ticketParamsCodec.fromMessage(issued.ticketParams);
      const credit = ticketEV(params.faceValue, params.winProb).mul(Rational.of(3n));
      expect(ratio(res.credited)).toBe(`${credit.num}/${credit.den}`);
      expect(ratio(res.balance)).toBe(ratio(res.credited));
      expect(res.acceptedCount).toBe(3);
      const balance = await r.client.balance({ sender: sender.address, jobId: 'job-valid' });
      expect(ratio(balance.balance)).toBe(ratio(res.credited));
      const metrics = await (await fetch(`${await r.app.getUrl()}/metrics`)).text();
      expect(metrics).toMatch(
        new RegExp(`ticketpay_tickets_recv_total\\{sender="${sender.hex}",service="recipient"\\} 3`),
      );
      expect(metrics).toContain('recipient_payment_validation_seconds_count');
    });

    it('opens no metric series for a sender whose signatures are all forged', async () => {
      const named = await h.newSender();
      const issued = await issue(r, named);
      // Signed by another key in `named`'s name.
      const forged = paymentMessage(issued, signBatch(issued, sender, [1, 2]));
      forged.sender = named.address;
      const res = await r.client.processPayment({ payment: forged, jobId: 'job-forged' });
      expect(res.tickets.map((t) => t.errorCode)).toEqual(['INVALID_SIGNATURE', 'INVALID_SIGNATURE']);
      const metrics = await (await fetch(`${await r.app.getUrl()}/metrics`)).text();
      expect(metrics).not.toContain(named.hex);
      expect(metrics).toMatch(new RegExp(`recipient_tickets_received_total\\{sender="${sender.hex}"`));
    });

    it('accepts the Livepeer-Payment header form', async () => {
      const issued = await issue(r, sender);
      const header = encodePaymentHeader(paymentOf(issued, signBatch(issued, sender, [7])));
      const res = await r.client.processPayment({ paymentHeader: header, jobId: 'job-header' });
      expect(res.acceptedCount).toBe(1);
      expect(
        await errorCodeOf(r.client.processPayment({ paymentHeader: 'not base64!', jobId: 'job-header' })),
      ).toBe('INVALID_HEADER');
    });

    it('debits work and refuses a debit below −max unsecured, changing nothing', async () => {
      const issued = await issue(r, sender);
      await r.client.processPayment({
        payment: paymentMessage(issued, signBatch(issued, sender, [1])),
        jobId: 'job-debit',
      });
      const before = await r.client.balance({ sender: sender.address, jobId: 'job-debit' });
      const credit = Rational.of(BigInt(before.balance.num!), BigInt(before.balance.den!));
      const fee = Rational.of(5_000_000_000n, 3n);
      const after = await r.client.debit({
        sender: sender.address,
        jobId: 'job-debit',
        amount: { num: '5000000000', den: '3' },
      });
      const expected = credit.sub(fee);
      expect(ratio(after.balance)).toBe(`${expected.num}/${expected.den}`);
      // Max unsecured is 0 by default: the balance may not go negative.
      const code = await errorCodeOf(
        r.client.debit({
          sender: sender.address,
          jobId: 'job-debit',
          amount: { num: '100000000000', den: '1' },
        }),
      );
      expect(code).toBe('INSUFFICIENT_BALANCE');
      const unchanged = await r.client.balance({ sender: sender.address, jobId: 'job-debit' });
      expect(ratio(unchanged.balance)).toBe(ratio(after.balance));
    });

    it('applies hundreds of concurrent updates of one balance exactly, without contention errors', async () => {
      const issued = await issue(r, sender);
      await r.client.processPayment({
        payment: paymentMessage(issued, signBatch(issued, sender, [1])),
        jobId: 'job-busy',
      });
      const start = await r.client.balance({ sender: sender.address, jobId: 'job-busy' });
      const debits = 400;
      const outcomes = await Promise.all(
        Array.from({ length: debits }, () =>
          errorCodeOf(
            r.client.debit({ sender: sender.address, jobId: 'job-busy', amount: { num: '1', den: '1' } }),
          ),
        ),
      );
      expect(outcomes.filter((c) => c !== 'NO_ERROR')).toEqual([]);
      const end = await r.client.balance({ sender: sender.address, jobId: 'job-busy' });
      const expected = Rational.of(BigInt(start.balance.num!), BigInt(start.balance.den!)).sub(
        Rational.of(BigInt(debits)),
      );
      expect(ratio(end.balance)).toBe(`${expected.num}/${expected.den}`);
    });

    it('refuses a debit whose denominator would grow the stored balance past its bound', async () => {
      const issued = await issue(r, sender);
      await r.client.processPayment({
        payment: paymentMessage(issued, signBatch(issued, sender, [1])),
        jobId: 'job-precision',
      });
      // Tiny debits over ever new coprime denominators (each under the 160-digit field limit).
      const dens = [3n ** 300n, 5n ** 200n, 7n ** 160n, 11n ** 130n, 13n ** 120n, 17n ** 110n];
      let refused: string | undefined;
      for (const den of dens) {
        const before = await r.client.balance({ sender: sender.address, jobId: 'job-precision' });
        const code = await errorCodeOf(
          r.client.debit({
            sender: sender.address,
            jobId: 'job-precision',
            amount: { num: '1', den: den.toString() },
          }),
        );
        if (code === 'NO_ERROR') continue;
        refused = code;
        const after = await r.client.balance({ sender: sender.address, jobId: 'job-precision' });
        expect(ratio(after.balance)).toBe(ratio(before.balance));
        expect(ratio(after.balance).length).toBeLessThanOrEqual(1_024);
        break;
      }
      expect(refused).toBe('INVALID_REQUEST');
      // Whole wei still goes through.
      const ok = await r.client.debit({
        sender: sender.address,
        jobId: 'job-precision',
        amount: { num: '1', den: '1' },
      });
      expect(ok.balance).toBeDefined();
    });

    it('a payment whose credit is refused is refused whole, and its tickets can be sent again', async () => {
      const issued = await issue(r, sender);
      // A balance one credit away from its length bound: its odd denominator has to take the
      // credit's power of two in, which adds about 75 digits above and below.
      const den = 3n ** 950n;
      await r.redis.set(balanceKey(sender.hex, 'job-long'), `${den * 7n + 1n}/${den}`);
      const payment = paymentMessage(issued, signBatch(issued, sender, [1, 2]));
      expect(await errorCodeOf(r.client.processPayment({ payment, jobId: 'job-long' }))).toBe(
        'INVALID_REQUEST',
      );
      // Nothing of it stayed recorded: the same tickets, for another job, are accepted once.
      const again = await r.client.processPayment({ payment, jobId: 'job-short' });
      expect(again.acceptedCount).toBe(2);
      const replay = await r.client.processPayment({ payment, jobId: 'job-short' });
      expect(replay.acceptedCount).toBe(0);
    });

    it('records, price-checks and credits a payment without winners in one Redis command', async () => {
      const issued = await issue(r, sender);
      const params = ticketParamsCodec.fromMessage(issued.ticketParams);
      const ev = ticketEV(params.faceValue, params.winProb);
      const pay = (nonces: number[], jobId = 'job-one-trip') =>
        r.client.processPayment({
          payment: paymentMessage(issued, signBatch(issued, sender, nonces)),
          jobId,
        });
      await pay([1]);
      const commands = countCommands(r.app.get<Redis>(RECIPIENT_REDIS));
      const second = await pay([2, 3]);
      expect(commands.count).toBe(1);
      expect(ratio(second.balance)).toBe(ev.mul(Rational.of(3n)).toString());
      // A replay within a payment: the script credits its good ticket to the pending credit, moved
      // into the balance in a second step.
      const mixed = await pay([3, 4]);
      expect(mixed.tickets.map((t) => t.errorCode)).toEqual(['NONCE_ALREADY_SEEN', '']);
      expect(ratio(mixed.balance)).toBe(ev.mul(Rational.of(4n)).toString());
      // Another replica changed the balance meanwhile: the script's compare-and-set refuses, the
      // credit goes to the pending credit and then onto what Redis holds, once.
      await r.redis.set(balanceKey(sender.hex, 'job-one-trip'), ev.mul(Rational.of(10n)).toString());
      const stale = await pay([5]);
      expect(ratio(stale.balance)).toBe(ev.mul(Rational.of(11n)).toString());
      commands.stop();
    });

    it('answers a payment recorded by the nonce script as recorded when Redis fails right after it', async () => {
      const issued = await issue(r, sender);
      const params = ticketParamsCodec.fromMessage(issued.ticketParams);
      const ev = ticketEV(params.faceValue, params.winProb);
      const pay = (nonces: number[]) =>
        r.client.processPayment({
          payment: paymentMessage(issued, signBatch(issued, sender, nonces)),
          jobId: 'job-after-script',
        });
      await pay([1]);
      // Redis gone after the script answered: the rate window and the balance read fail.
      const balances = r.app.get(Balances);
      const limiter = r.app.get(SenderRateLimiter);
      const [read, consume] = [balances.balance.bind(balances), limiter.consume.bind(limiter)];
      const gone = () => Promise.reject(new Error('Connection is closed.'));
      balances.balance = gone;
      limiter.consume = gone;
      try {
        const recorded = await pay([2]);
        expect([recorded.acceptedCount, ratio(recorded.credited)]).toEqual([1, ev.toString()]);
        expect(ratio(recorded.balance)).toBe(ev.mul(Rational.of(2n)).toString());
        // A replay needs the balance read, which fails: answered without it, not as an error.
        const replay = await pay([2]);
        expect(replay.tickets.map((t) => t.errorCode)).toEqual(['NONCE_ALREADY_SEEN']);
        expect(replay.balance ?? null).toBeNull();
      } finally {
        balances.balance = read;
        limiter.consume = consume;
      }
      const after = await r.client.balance({ sender: sender.address, jobId: 'job-after-script' });
      expect(ratio(after.balance)).toBe(ev.mul(Rational.of(2n)).toString());
    });

    it('accepts payments on params kept under the legacy key until they expire', async () => {
      const issued = await issue(r, sender);
      const rrHash = rrHashOf(issued);
      await r.redis.rename(paramsKey(sender.hex, rrHash), legacyParamsKey(rrHash));
      const payment = paymentMessage(issued, signBatch(issued, sender, [1]));
      expect((await r.client.processPayment({ payment, jobId: 'job-legacy' })).acceptedCount).toBe(1);
      const replay = await r.client.processPayment({ payment, jobId: 'job-legacy' });
      expect(replay.tickets[0].errorCode).toBe('NONCE_ALREADY_SEEN');
      expect(await r.redis.hexists(legacyParamsKey(rrHash), '1')).toBe(1);
    });

    it('answers EV and the tx cost multiplier', async () => {
      expect(ratio((await r.client.ev()).ev)).toBe('8000000000/1');
      expect(ratio((await r.client.txCostMultiplier({ sender: sender.address })).multiplier)).toBe('100/1');
    });

    it('prices face values at ETH_MIN_GAS_PRICE at least (go-livepeer -minGasPrice)', async () => {
      const floor = 10_000_000_000n;
      expect((await h.anvil.provider.getFeeData()).gasPrice! < floor).toBe(true);
      const floored = await h.boot({ ETH_MIN_GAS_PRICE: floor.toString() });
      try {
        const { faceValue } = ticketParamsCodec.fromMessage((await issue(floored, sender)).ticketParams);
        // Redeem gas 350,000 × the floor × the tx cost multiplier 100.
        expect(faceValue).toBe(350_000n * floor * 100n);
      } finally {
        await floored.close();
      }
    });

    it('refuses params for a sender without reserve (INSUFFICIENT_SENDER_RESERVE)', async () => {
      const broke = await h.newSender({ deposit: 1n, reserve: 0n });
      expect(await errorCodeOf(issue(r, broke))).toBe('INSUFFICIENT_SENDER_RESERVE');
      expect(await errorCodeOf(r.client.txCostMultiplier({ sender: broke.address }))).toBe(
        'INSUFFICIENT_SENDER_RESERVE',
      );
      // Free params (price 0) never consult the reserve, as in go-livepeer.
      const free = await issue(r, broke, { pricePerUnit: '0', pixelsPerUnit: '1' });
      expect(ticketParamsCodec.fromMessage(free.ticketParams).faceValue).toBe(0n);
    });

    it('caps the face value by the max float, which pending winners reduce', async () => {
      const small = await h.newSender({ deposit: 0n, reserve: 3_000_000_000_000_000n });
      const issued = await issue(r, small);
      expect(ticketParamsCodec.fromMessage(issued.ticketParams).faceValue).toBeLessThanOrEqual(
        3_000_000_000_000_000n,
      );
    });

    it('refuses malformed requests with INVALID_REQUEST', async () => {
      expect(await errorCodeOf(r.client.getTicketParams({ sender: new Uint8Array(19), price: PRICE }))).toBe(
        'INVALID_REQUEST',
      );
      expect(await errorCodeOf(r.client.getTicketParams({ sender: sender.address }))).toBe('INVALID_REQUEST');
      expect(await errorCodeOf(r.client.balance({ sender: sender.address, jobId: 'has space' }))).toBe(
        'INVALID_REQUEST',
      );
      expect(await errorCodeOf(r.client.processPayment({ jobId: 'x' }))).toBe('INVALID_REQUEST');
      expect(
        await errorCodeOf(
          r.client.debit({ sender: sender.address, jobId: 'x', amount: { num: '-1', den: '1' } }),
        ),
      ).toBe('INVALID_REQUEST');
    });
  });

  describe('winning tickets', () => {
    let r: RunningRecipient;
    beforeAll(async () => {
      r = await h.boot(ALWAYS_WIN_UNRECONCILED);
    });

    it('are in Postgres when ProcessPayment returns, and their redemption job is queued', async () => {
      const issued = await issue(r, sender);
      const params = ticketParamsCodec.fromMessage(issued.ticketParams);
      expect(params.winProb > MAX_WIN_PROB - MAX_WIN_PROB / 1000n).toBe(true);
      const res = await r.client.processPayment({
        payment: paymentMessage(issued, signBatch(issued, sender, [1, 2])),
        jobId: 'job-win',
      });
      expect(res.winningCount).toBe(2);
      for (const t of res.tickets) {
        const hash = bytesToHex(t.ticketHash);
        const row = await r.tickets.findByHash(hash);
        expect(row).toMatchObject({
          sender: sender.hex,
          recipient: h.recipient,
          status: WinningTicketStatus.QUEUED,
        });
        expect(row!.faceValue).toBe(params.faceValue);
        // Revealed only once a head as stale as this Recipient accepts (RECIPIENT_MAX_HEAD_STALL_SECONDS
        // 120 s: 10 blocks of 12 s) can no longer take the params, plus a block.
        expect(row!.revealBlock).toBe(params.expirationBlock + 11n);
        expect(await r.queue.getJob(hash)).toBeTruthy();
      }
    });

    it('tells /health and /metrics whether a Redeemer serves the recipient: its lease says', async () => {
      const presence = r.app.get(RedeemerPresence);
      const redeemerEntry = async () =>
        ((await r.app.get(HealthRunner).run()) as { details: Record<string, unknown> }).details.redeemer;
      expect(await presence.serving()).toBe(false);
      expect(await redeemerEntry()).toMatchObject({ status: 'up', serving: false });
      const metric = async () =>
        (
          await r.app.get(MetricsRegistry).registry.getSingleMetricAsString('recipient_redeemer_serving')
        ).trim();
      expect(await metric()).toMatch(/recipient_redeemer_serving\{[^}]*\} 0$/);
      // A Redeemer takes the recipient's lease.
      const lease = new SignerLease(r.app.get(DataSource));
      expect(
        await lease.acquire(
          `0x${'5a'.repeat(20)}`,
          () => false,
          () => undefined,
        ),
      ).toBe(true);
      try {
        const { chainId } = await r.app.get(ChainClient).provider.getNetwork();
        expect(await lease.leaseRecipients(chainId, [h.recipient])).toEqual([]);
        expect(await redeemerEntry()).toMatchObject({ status: 'up', serving: true });
        expect(await metric()).toMatch(/recipient_redeemer_serving\{[^}]*\} 1$/);
      } finally {
        await lease.release();
      }
    });

    it('are stored once and credited once when the same payment comes again', async () => {
      const issued = await issue(r, sender);
      const payment = paymentMessage(issued, signBatch(issued, sender, [5]));
      const first = await r.client.processPayment({ payment, jobId: 'job-twice' });
      const second = await r.client.processPayment({ payment, jobId: 'job-twice' });
      expect(first.acceptedCount).toBe(1);
      expect(second.tickets[0]).toMatchObject({ accepted: false, errorCode: 'NONCE_ALREADY_SEEN' });
      expect(ratio(second.balance)).toBe(ratio(first.balance));
      expect(await r.countWinners(rrHashOf(issued))).toBe(1);
    });

    it('stores all winners of a payment together, a ticket repeated within it once', async () => {
      const issued = await issue(r, sender);
      const res = await r.client.processPayment({
        payment: paymentMessage(issued, signBatch(issued, sender, [21, 21, 22, 23])),
        jobId: 'job-many',
      });
      expect(res.tickets.map((t) => t.errorCode)).toEqual(['', 'NONCE_ALREADY_SEEN', '', '']);
      expect(res.acceptedCount).toBe(3);
      const hashes = new Set(res.tickets.map((t) => bytesToHex(t.ticketHash)));
      expect(hashes.size).toBe(3);
      for (const hash of hashes) {
        expect((await r.tickets.findByHash(hash))?.status).toBe(WinningTicketStatus.QUEUED);
        expect((await r.queue.getJob(hash))?.data).toEqual({ ticketHash: hash, sender: sender.hex });
      }
      expect(await r.countWinners(rrHashOf(issued))).toBe(3);
    });

    it('a deleted redemption job is enqueued again by the reconciler', async () => {
      const issued = await issue(r, sender);
      const res = await r.client.processPayment({
        payment: paymentMessage(issued, signBatch(issued, sender, [9])),
        jobId: 'job-reconcile',
      });
      const hash = bytesToHex(res.tickets[0].ticketHash);
      await (await r.queue.getJob(hash))!.remove();
      expect(await r.queue.getJob(hash)).toBeUndefined();
      const requeued = await r.app.get(RedemptionReconciler).reconcile();
      expect(requeued).toBeGreaterThanOrEqual(1);
      const job = await r.queue.getJob(hash);
      expect(job?.data).toEqual({ ticketHash: hash, sender: sender.hex });
      expect((await r.tickets.findByHash(hash))?.status).toBe(WinningTicketStatus.QUEUED);
    });

    it('pending winners reduce the max float', async () => {
      const monitorSender = await h.newSender({ deposit: 0n, reserve: 5_000_000_000_000_000n });
      const before = await r.app.get(SenderMonitor).maxFloat(monitorSender.hex, h.recipient);
      const issued = await issue(r, monitorSender);
      const faceValue = ticketParamsCodec.fromMessage(issued.ticketParams).faceValue;
      await r.client.processPayment({
        payment: paymentMessage(issued, signBatch(issued, monitorSender, [1])),
        jobId: 'job-float',
      });
      const after = await r.app.get(SenderMonitor).maxFloat(monitorSender.hex, h.recipient);
      expect(before - after).toBe(faceValue);
    });
  });

  describe('with the SenderMonitor service', () => {
    it('takes max floats and sender validity from it', async () => {
      const monitorUrl = `127.0.0.1:${await freePort()}`;
      const monitor = await bootstrapService({
        name: 'sender-monitor',
        module: SenderMonitorModule.forRoot(
          SenderMonitorConfig.fromEnv({
            ...h.env,
            REDIS_PREFIX: `${h.env.REDIS_PREFIX}monitor:`,
            SENDER_MONITOR_RECIPIENTS: h.recipient,
            SENDER_MONITOR_GRPC_URL: monitorUrl,
            SENDER_MONITOR_POLL_INTERVAL_MS: '100',
          }),
        ),
        logger: new ConsoleLogger('test', { logLevels: ['fatal'] }),
        http: { host: '127.0.0.1', port: 0 },
        grpc: { url: monitorUrl, ...SENDER_MONITOR_GRPC },
        exitOnSignals: false,
      });
      try {
        const r = await h.boot({ RECIPIENT_SENDER_MONITOR_URL: monitorUrl });
        const issued = await issue(r, sender);
        expect(ticketParamsCodec.fromMessage(issued.ticketParams).faceValue).toBeGreaterThan(0n);
        const res = await r.client.processPayment({
          payment: paymentMessage(issued, signBatch(issued, sender, [1])),
          jobId: 'job-monitor',
        });
        expect(res.tickets[0]).toMatchObject({ accepted: true, errorCode: '' });
        const broke = await h.newSender({ deposit: 1n, reserve: 0n });
        expect(await errorCodeOf(issue(r, broke))).toBe('INSUFFICIENT_SENDER_RESERVE');
        await r.close();
      } finally {
        await monitor.close();
      }
    });
  });
});

/** Counts the commands sent on `redis` until `stop`. */
function countCommands(redis: Redis): { count: number; stop(): void } {
  const send = redis.sendCommand.bind(redis);
  const counter = {
    count: 0,
    stop: () => {
      redis.sendCommand = send;
    },
  };
  redis.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    counter.count++;
    return send(...args);
  };
  return counter;
}
