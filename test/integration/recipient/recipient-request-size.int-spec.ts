import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  rejectionOf,
  startSourceService,
  waitForGrpcServing,
  type ServiceProcess,
} from '#app/testing';
import { RecipientCallError, RecipientClient } from '#app/clients';
import {
  PRICE,
  paymentMessage,
  signBatch,
  startHarness,
  type RecipientHarness,
  type TestSender,
} from './recipient-fixture.js';

const MAX_REQUEST_BYTES = 4_096;

/** The Recipient's real main with a small RECIPIENT_GRPC_MAX_REQUEST_BYTES. */
describe('Recipient: largest gRPC request', () => {
  let h: RecipientHarness;
  let svc: ServiceProcess;
  let client: RecipientClient;
  let sender: TestSender;

  beforeAll(async () => {
    h = await startHarness('recipient-request-size');
    sender = await h.newSender();
    const grpcUrl = `127.0.0.1:${await freePort()}`;
    svc = startSourceService('recipient', {
      ...h.env,
      RECIPIENT_GRPC_URL: grpcUrl,
      RECIPIENT_HTTP_PORT: '0',
      RECIPIENT_GRPC_MAX_REQUEST_BYTES: String(MAX_REQUEST_BYTES),
    });
    await waitForGrpcServing(grpcUrl, svc);
    client = new RecipientClient(grpcUrl);
  });
  afterAll(async () => {
    client?.close();
    await svc?.stop();
    await h?.stop();
  });

  const nonces = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  it('refuses a payment above the limit unread, and credits nothing for it', async () => {
    const issued = await client.getTicketParams({ sender: sender.address, price: PRICE });
    const big = paymentMessage(issued, signBatch(issued, sender, nonces(100)));
    const refused = await rejectionOf(
      client.processPayment({ payment: big, jobId: 'job-big' }),
      RecipientCallError,
    );
    expect(refused.status).toBe(status.RESOURCE_EXHAUSTED);
    // grpc-js refuses it before any of our code runs; the answer still carries our code trailer.
    expect(refused.errorCode).toBe('MESSAGE_TOO_LARGE');
    expect((await client.balance({ sender: sender.address, jobId: 'job-big' })).balance.num).toBe('0');

    // The same tickets in a payment under the limit are read and accepted.
    const small = paymentMessage(issued, signBatch(issued, sender, nonces(10)));
    expect((await client.processPayment({ payment: small, jobId: 'job-small' })).acceptedCount).toBe(10);
  });

  it('refuses a batch above the limit, and the coalescing client then sends its payments alone', async () => {
    const issued = await client.getTicketParams({ sender: sender.address, price: PRICE });
    // Five payments of 10 tickets: each fits the limit, together they do not.
    const payments = [0, 1, 2, 3, 4].map((k) => ({
      payment: paymentMessage(
        issued,
        signBatch(
          issued,
          sender,
          nonces(10).map((n) => 100 + 10 * k + n),
        ),
      ),
      jobId: 'job-batched',
    }));
    const refused = await client.processPayments({ payments }).then(
      () => undefined,
      (e: unknown) => e as RecipientCallError,
    );
    expect(refused?.errorCode).toBe('MESSAGE_TOO_LARGE');
    const answers = await Promise.all(payments.map((p) => client.processPayment(p)));
    expect(answers.map((a) => a.acceptedCount)).toEqual([10, 10, 10, 10, 10]);
  });
});
