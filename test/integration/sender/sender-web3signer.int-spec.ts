import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigError } from '#app/common';
import { decodePaymentHeader } from '#app/proto';
import { FakeWeb3Signer } from '#app/testing';
import { InMemoryNonceLedger, receiveTicketBatch, ticketBatchFromPayment } from '#app/ticket';
import {
  FUNDED_SENDER_KEY,
  UNFUNDED_SENDER_KEY,
  bootSender,
  chainView,
  failure,
  freshParams,
  newOrchestrator,
  senderEnv,
  startSenderChain,
  startSessionRequest,
  writeSenderFiles,
  type Env,
  type Orchestrator,
  type RunningSender,
  type SenderChain,
  type SenderFiles,
} from './sender-fixture.js';

interface BatchResponse {
  paymentHeader: string;
  firstNonce: number;
  lastNonce: number;
}

/** A Sender whose only keys are held by a (fake) Web3Signer: no keystore is configured. */
describe('Sender with a Web3Signer account', () => {
  let chain: SenderChain;
  let files: SenderFiles;
  let web3signer: FakeWeb3Signer;
  let sender: RunningSender;
  let orch: Orchestrator;
  let env: Env;

  beforeAll(async () => {
    chain = await startSenderChain();
    files = await writeSenderFiles(chain);
    web3signer = await FakeWeb3Signer.start({ keys: [FUNDED_SENDER_KEY, UNFUNDED_SENDER_KEY] });
    env = senderEnv(
      chain,
      files,
      { url: inject('redisUrl'), prefix: `${inject('redisPrefix')}sender-web3signer:` },
      { SENDER_WEB3SIGNER_URL: web3signer.url, SENDER_WEB3SIGNER_TIMEOUT_MS: '1000' },
    );
    delete env.SENDER_KEYSTORE_DIR;
    delete env.SENDER_KEYSTORE_PASSWORD_FILE;
    sender = await bootSender(env);
    orch = newOrchestrator(chain.recipient);
  });
  afterAll(async () => {
    await sender?.close();
    await web3signer?.stop();
    await chain?.stop();
    files?.cleanup();
  });

  async function startSession(): Promise<string> {
    const p = await freshParams(chain, orch);
    const started = await sender.client.call<{ sessionId: string }>(
      'StartSession',
      startSessionRequest(p, chain.funded.address),
    );
    return started.sessionId;
  }

  it('signs a batch through eth_sign that the Recipient library accepts', async () => {
    const sessionId = await startSession();
    const before = web3signer.signRequests;
    const res = await sender.client.call<BatchResponse>('CreateTicketBatch', { sessionId, size: 12 });
    expect(res).toMatchObject({ firstNonce: 1, lastNonce: 12 });
    expect(web3signer.signRequests - before).toBe(12);

    const batch = ticketBatchFromPayment(decodePaymentHeader(res.paymentHeader))!;
    expect(Buffer.from(batch.sender).toString('hex')).toBe(chain.funded.address.slice(2).toLowerCase());
    const { block, round } = await chainView(chain);
    const received = await receiveTicketBatch(
      batch,
      {
        recipient: orch.address,
        secret: orch.secret,
        lastSeenL1Block: block,
        lastInitializedRound: round.creationRound,
        senderInfo: { withdrawRound: 0n },
      },
      { ledger: new InMemoryNonceLedger() },
    );
    expect(received.map((r) => r.error)).toEqual(Array(12).fill(undefined));
  });

  it('refuses a batch with a coded error when the signer answers with another key, and signs again after', async () => {
    const sessionId = await startSession();
    web3signer.fault = 'wrong-key';
    try {
      expect(await failure(sender.client.call('CreateTicketBatch', { sessionId, size: 3 }))).toMatchObject({
        status: status.INTERNAL,
        code: 'SIGNER_WRONG_ACCOUNT',
      });
    } finally {
      web3signer.fault = 'none';
    }
    // The failed batch's nonces are spent (a gap the recipient accepts); the next batch goes on.
    const res = await sender.client.call<BatchResponse>('CreateTicketBatch', { sessionId, size: 2 });
    expect(res).toMatchObject({ firstNonce: 4, lastNonce: 5 });
  });

  it('reports a signer that is down as UNAVAILABLE / SIGNER_UNAVAILABLE', async () => {
    const sessionId = await startSession();
    web3signer.fault = 'hang';
    try {
      expect(await failure(sender.client.call('CreateTicketBatch', { sessionId, size: 1 }))).toMatchObject({
        status: status.UNAVAILABLE,
        code: 'SIGNER_UNAVAILABLE',
      });
    } finally {
      web3signer.fault = 'none';
    }
  });

  it('fails the boot listing an account the signer does not hold and a keystore account it also holds', async () => {
    const err = await bootSender({
      ...senderEnv(chain, files, { url: inject('redisUrl'), prefix: `${inject('redisPrefix')}w3s-bad:` }),
      SENDER_WEB3SIGNER_URL: web3signer.url,
      SENDER_WEB3SIGNER_ACCOUNTS: `${chain.funded.address},0x${'12'.repeat(20)}`,
    }).then(
      async (s) => {
        await s.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    expect(message).toMatch(/does not hold account 0x1212121212121212121212121212121212121212/);
    expect(message).toMatch(
      new RegExp(`account ${chain.funded.address.toLowerCase()} is already loaded from keystore`),
    );
  });
});
