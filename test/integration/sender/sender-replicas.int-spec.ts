import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePaymentHeader } from '#app/proto';
import {
  computeRecipientRand,
  pricePerPixel,
  ticketBatchFromPayment,
  validateTicket,
  type TicketBatch,
} from '#app/ticket';
import {
  bootSender,
  chainView,
  newOrchestrator,
  orchestratorParams,
  senderEnv,
  startSenderChain,
  startSessionRequest,
  testRedis,
  writeSenderFiles,
  type RunningSender,
  type SenderChain,
  type SenderFiles,
} from './sender-fixture.js';

const WORKERS_PER_REPLICA = 4;
const BATCHES_PER_WORKER = 12;
const BATCH_SIZE = 50;
const TOTAL = 2 * WORKERS_PER_REPLICA * BATCHES_PER_WORKER * BATCH_SIZE;

/** Two Sender replicas sharing Redis and one session: every nonce is issued exactly once. */
describe('Sender replicas', () => {
  let chain: SenderChain;
  let files: SenderFiles;
  let replicas: RunningSender[] = [];

  beforeAll(async () => {
    chain = await startSenderChain();
    files = await writeSenderFiles(chain);
    // A cap far above go-livepeer's 600 so one session can carry thousands of tickets.
    const env = senderEnv(chain, files, testRedis('sender-replicas'), {
      SENDER_NONCE_CAP: String(TOTAL + 1000),
      SENDER_NONCE_REFRESH_AT: String(TOTAL + 1000),
      SENDER_MAX_BATCH_SIZE: String(BATCH_SIZE),
    });
    replicas = [await bootSender(env), await bootSender(env)];
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await chain?.stop();
    files?.cleanup();
  });

  it(`issue no duplicate nonce over ${TOTAL} tickets created concurrently for one session`, async () => {
    const orch = newOrchestrator(chain.recipient);
    const { block, round } = await chainView(chain);
    const p = orchestratorParams(orch, {
      sender: chain.funded,
      expirationBlock: block + 40n,
      expirationParams: round,
    });
    const startRequest = startSessionRequest(p, chain.funded.address);
    // Both replicas are told about the session, as a load balancer would spread the calls.
    const [first, second] = await Promise.all(
      replicas.map((r) => r.client.call<{ sessionId: string }>('StartSession', startRequest)),
    );
    expect(second.sessionId).toBe(first.sessionId);

    const worker = async (replica: RunningSender): Promise<TicketBatch[]> => {
      const out: TicketBatch[] = [];
      for (let i = 0; i < BATCHES_PER_WORKER; i++) {
        const res = await replica.client.call<{ paymentHeader: string }>('CreateTicketBatch', {
          sessionId: first.sessionId,
          size: BATCH_SIZE,
        });
        out.push(ticketBatchFromPayment(decodePaymentHeader(res.paymentHeader))!);
      }
      return out;
    };
    const batches = (
      await Promise.all(replicas.flatMap((r) => Array.from({ length: WORKERS_PER_REPLICA }, () => worker(r))))
    ).flat();

    const nonces = batches.flatMap((b) => b.senderParams.map((t) => t.senderNonce));
    expect(nonces).toHaveLength(TOTAL);
    expect(new Set(nonces).size).toBe(TOTAL);
    expect(Math.min(...nonces)).toBe(1);
    expect(Math.max(...nonces)).toBe(TOTAL);
    // Each batch is a run of consecutive nonces (one atomic allocation).
    for (const b of batches) {
      const ns = b.senderParams.map((t) => t.senderNonce);
      expect(ns).toEqual(Array.from({ length: BATCH_SIZE }, (_, i) => ns[0] + i));
    }

    // And every ticket is validly signed for O.
    const recipientRand = computeRecipientRand(orch.secret, {
      seed: p.params.seed,
      sender: batches[0].sender,
      faceValue: p.params.faceValue,
      winProb: p.params.winProb,
      expirationBlock: p.params.expirationBlock,
      pricePerPixel: pricePerPixel(p.price),
      ...round,
    });
    for (const b of batches) {
      for (const t of b.senderParams) {
        validateTicket(
          orch.address,
          {
            recipient: b.params.recipient,
            sender: b.sender,
            faceValue: b.params.faceValue,
            winProb: b.params.winProb,
            senderNonce: t.senderNonce,
            recipientRandHash: b.params.recipientRandHash,
            ...b.expirationParams,
          },
          t.sig,
          recipientRand,
        );
      }
    }
  });
});
