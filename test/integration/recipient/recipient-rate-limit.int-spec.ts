import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentCodec } from '#app/proto';
import { createTicketBatch, hexToBytes } from '#app/ticket';
import {
  errorCodeOf,
  issue,
  paymentMessage,
  paymentOf,
  signBatch,
  startHarness,
  type RecipientHarness,
  type RunningRecipient,
  type TestSender,
} from './recipient-fixture.js';

const LIMIT = 5;

/** Waits for the start of the next one-second window, so a test's calls share one window. */
async function nextWindow(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1_000 - (Date.now() % 1_000) + 20));
}

describe('Recipient: per-sender rate limit, shared by replicas', () => {
  let h: RecipientHarness;
  let r: RunningRecipient;
  let replica: RunningRecipient;
  let sender: TestSender;
  let other: TestSender;
  let job = 0;

  beforeAll(async () => {
    h = await startHarness('recipient-rate-limit');
    sender = await h.newSender();
    other = await h.newSender();
    const env = { RECIPIENT_MAX_TICKETS_PER_SECOND_PER_SENDER: String(LIMIT) };
    r = await h.boot(env);
    replica = await h.boot(env);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const nonces = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

  it('refuses a sender over its tickets per second on every replica, not other senders, and lets it go on next second', async () => {
    const issued = await issue(r, sender);
    const otherIssued = await issue(r, other);
    await nextWindow();
    const full = await r.client.processPayment({
      payment: paymentMessage(issued, signBatch(issued, sender, nonces(1, LIMIT))),
      jobId: `job-${++job}`,
    });
    expect(full.acceptedCount).toBe(LIMIT);

    const over = paymentMessage(issued, signBatch(issued, sender, [LIMIT + 1]));
    expect(await errorCodeOf(replica.client.processPayment({ payment: over, jobId: `job-${++job}` }))).toBe(
      'RATE_LIMITED',
    );
    const others = await r.client.processPayment({
      payment: paymentMessage(otherIssued, signBatch(otherIssued, other, [1])),
      jobId: `job-${++job}`,
    });
    expect(others.acceptedCount).toBe(1);

    await nextWindow();
    const later = await replica.client.processPayment({ payment: over, jobId: `job-${++job}` });
    expect(later.acceptedCount).toBe(1);
  });

  it("does not let payments forged in a sender's name use up its budget", async () => {
    const issued = await issue(r, sender);
    const forged = createTicketBatch({
      ...signBatch(issued, sender, [1]),
      nonces: nonces(1, LIMIT),
      privateKey: other.key,
    });
    await nextWindow();
    // Signed by another key but naming the sender: every signature fails.
    const payment = paymentCodec.toMessage({
      ...paymentOf(issued, forged),
      sender: hexToBytes(sender.hex, 'sender', 20),
    });
    const refused = await r.client.processPayment({ payment, jobId: `job-${++job}` });
    expect(refused.tickets.map((t) => t.errorCode)).toEqual(Array(LIMIT).fill('INVALID_SIGNATURE'));
    expect(refused.acceptedCount).toBe(0);
    const genuine = await r.client.processPayment({
      payment: paymentMessage(issued, signBatch(issued, sender, nonces(LIMIT + 1, LIMIT))),
      jobId: `job-${++job}`,
    });
    expect(genuine.acceptedCount).toBe(LIMIT);
  });
});
