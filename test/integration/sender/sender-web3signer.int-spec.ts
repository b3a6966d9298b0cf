import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '#app/common';
import { decodePaymentHeader, priceInfoCodec, ticketParamsCodec } from '#app/proto';
import { FakeWeb3Signer, type FakeWeb3SignerFault } from '#app/testing';
import {
  InMemoryNonceLedger,
  hexToBytes,
  keccak256,
  nobleBackend,
  personalDigest,
  receiveTicketBatch,
  signatureFault,
  ticketBatchFromPayment,
} from '#app/ticket';
import { fetchSignerIdentity } from '../../support/live-gateway/live-gateway.js';
import {
  decodeSegData,
  encodeOrchestratorInfo,
  flattenLiveSegData,
} from '../../support/live-gateway/wire.js';
import {
  FUNDED_SENDER_KEY,
  GATEWAY_TOKEN,
  UNFUNDED_SENDER_KEY,
  bootError,
  chainView,
  failure,
  freshParams,
  senderEnv,
  startSenderHarness,
  startSessionRequest,
  testRedis,
  type Orchestrator,
  type RunningSender,
  type SenderChain,
  type SenderFiles,
  type SenderHarness,
} from './sender-fixture.js';

interface BatchResponse {
  paymentHeader: string;
  firstNonce: number;
  lastNonce: number;
}

/** A Sender whose only keys are held by a (fake) Web3Signer: no keystore is configured. */
describe('Sender with a Web3Signer account', () => {
  let h: SenderHarness;
  let chain: SenderChain;
  let files: SenderFiles;
  let web3signer: FakeWeb3Signer;
  let sender: RunningSender;
  let orch: Orchestrator;

  beforeAll(async () => {
    web3signer = await FakeWeb3Signer.start({ keys: [FUNDED_SENDER_KEY, UNFUNDED_SENDER_KEY] });
    h = await startSenderHarness('sender-web3signer', {
      env: {
        SENDER_WEB3SIGNER_URL: web3signer.url,
        SENDER_WEB3SIGNER_TIMEOUT_MS: '1000',
        SENDER_REMOTE_SIGNER: 'true',
        // Empty is unset: the only keys are Web3Signer's.
        SENDER_KEYSTORE_DIR: '',
        SENDER_KEYSTORE_PASSWORD_FILE: '',
      },
    });
    ({ chain, files, sender, orch } = h);
  });
  afterAll(async () => {
    await h?.close();
    await web3signer?.stop();
  });

  async function startSession(): Promise<string> {
    const p = await freshParams(chain, orch);
    const started = await sender.client.call<{ sessionId: string }>(
      'StartSession',
      startSessionRequest(p, chain.funded.address),
    );
    return started.sessionId;
  }

  /** O's side: the Recipient library's checks over a received payment header. */
  async function receive(paymentHeader: string) {
    const batch = ticketBatchFromPayment(decodePaymentHeader(paymentHeader))!;
    expect(Buffer.from(batch.sender).toString('hex')).toBe(chain.funded.address.slice(2).toLowerCase());
    const { block, round } = await chainView(chain);
    return receiveTicketBatch(
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
  }

  it('signs a batch through eth_sign that the Recipient library accepts', async () => {
    const sessionId = await startSession();
    const before = web3signer.signRequests;
    const res = await sender.client.call<BatchResponse>('CreateTicketBatch', { sessionId, size: 12 });
    expect(res).toMatchObject({ firstNonce: 1, lastNonce: 12 });
    expect(web3signer.signRequests - before).toBe(12);
    const received = await receive(res.paymentHeader);
    expect(received.map((r) => r.error)).toEqual(Array(12).fill(undefined));
  });

  it('answers go-livepeer remote signer calls with the key Web3Signer holds', async () => {
    const headers = { authorization: `Bearer ${GATEWAY_TOKEN}`, 'ticketpay-sender': chain.funded.address };
    // The gateway client checks the orchestrator-info signature against the address.
    const identity = await fetchSignerIdentity(sender.httpUrl, headers);
    expect(identity.addressHex).toBe(chain.funded.address.toLowerCase());

    const p = await freshParams(chain, orch);
    const orchestrator = encodeOrchestratorInfo({
      transcoder: 'https://orchestrator.invalid:8935',
      ticketParams: ticketParamsCodec.toMessage(p.params),
      priceInfo: priceInfoCodec.toMessage(p.price),
      address: orch.address,
      authToken: {
        token: randomBytes(32),
        sessionId: 'w3s-session',
        expiration: BigInt(Math.floor(Date.now() / 1000) + 1_800),
      },
    });
    const before = web3signer.signRequests;
    const res = await fetch(new URL('/generate-live-payment', sender.httpUrl), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({
        orchestrator: Buffer.from(orchestrator).toString('base64'),
        type: 'live',
        ManifestID: 'w3s-stream',
      }),
    });
    const body = (await res.json()) as { payment: string; segCreds: string };
    expect(res.status).toBe(200);
    const received = await receive(body.payment);
    expect(received.length).toBeGreaterThan(0);
    expect(received.map((r) => r.error)).toEqual(received.map(() => undefined));
    const seg = decodeSegData(body.segCreds);
    const segDigest = personalDigest(keccak256(flattenLiveSegData(seg)));
    const funded = hexToBytes(chain.funded.address.toLowerCase(), 'sender', 20);
    expect(signatureFault(funded, segDigest, seg.sig, nobleBackend)).toBeNull();
    // Every ticket and the segment credentials went through eth_sign (the state too, unsealed by HMAC).
    expect(web3signer.signRequests - before).toBeGreaterThanOrEqual(received.length + 1);
  });

  it('reports Web3Signer in /health: down while it no longer holds a signing account', async () => {
    type Health = { status: string; info?: object; error?: object };
    const health = async () => {
      const res = await fetch(`${sender.httpUrl}/health`);
      return { status: res.status, body: (await res.json()) as Health };
    };
    expect(await health()).toMatchObject({
      status: 200,
      body: { info: { web3signer: { status: 'up', accounts: 2 } } },
    });
    const funded = chain.funded.address.toLowerCase();
    web3signer.hidden.add(funded);
    try {
      const down = await health();
      expect(down.status).toBe(503);
      const probe = (down.body.error as { web3signer?: { status: string; message: string } }).web3signer;
      expect(probe?.status).toBe('down');
      expect(probe?.message).toContain(`no longer holds account(s) ${funded}`);
      // The other probes are unaffected.
      expect(down.body.info).toMatchObject({ redis: { status: 'up' } });
    } finally {
      web3signer.hidden.delete(funded);
    }
    expect((await health()).status).toBe(200);
  });

  /** How CreateTicketBatch fails while the signer misbehaves with `fault`. */
  async function batchFailureUnder(fault: FakeWeb3SignerFault, sessionId: string, size: number) {
    web3signer.fault = fault;
    try {
      return await failure(sender.client.call('CreateTicketBatch', { sessionId, size }));
    } finally {
      web3signer.fault = 'none';
    }
  }

  it('refuses a batch with a coded error when the signer answers with another key, and signs again after', async () => {
    const sessionId = await startSession();
    expect(await batchFailureUnder('wrong-key', sessionId, 3)).toMatchObject({
      status: status.INTERNAL,
      code: 'SIGNER_WRONG_ACCOUNT',
    });
    // The failed batch's nonces are spent (a gap the recipient accepts); the next batch goes on.
    const res = await sender.client.call<BatchResponse>('CreateTicketBatch', { sessionId, size: 2 });
    expect(res).toMatchObject({ firstNonce: 4, lastNonce: 5 });
  });

  it('reports a signer that does not answer as UNAVAILABLE / SIGNER_UNAVAILABLE', async () => {
    expect(await batchFailureUnder('hang', await startSession(), 1)).toMatchObject({
      status: status.UNAVAILABLE,
      code: 'SIGNER_UNAVAILABLE',
    });
  });

  it.each([
    [{ SENDER_WEB3SIGNER_ACCOUNTS: `0x${'12'.repeat(20)}` }, /SENDER_WEB3SIGNER_URL is not set/],
    [
      { SENDER_WEB3SIGNER_URL: 'https://127.0.0.1:1', SENDER_WEB3SIGNER_TLS_CERT_FILE: '/nonexistent.pem' },
      /SENDER_WEB3SIGNER_TLS_CERT_FILE and SENDER_WEB3SIGNER_TLS_KEY_FILE go together/,
    ],
    [
      { SENDER_WEB3SIGNER_URL: 'http://127.0.0.1:1', SENDER_WEB3SIGNER_TLS_CA_FILE: '/nonexistent.pem' },
      /SENDER_WEB3SIGNER_URL is not https/,
    ],
    [
      { SENDER_WEB3SIGNER_URL: 'https://127.0.0.1:1', SENDER_WEB3SIGNER_TLS_CA_FILE: '/nonexistent/ca.pem' },
      /SENDER_WEB3SIGNER_TLS_CA_FILE: cannot read \/nonexistent\/ca.pem \(ENOENT\)/,
    ],
  ])('fails the boot on inconsistent Web3Signer settings %#', async (settings, problem) => {
    const err = await bootError({
      ...senderEnv(chain, files, testRedis('w3s-cfg')),
      ...settings,
    });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(problem);
  });

  it('fails the boot listing an account the signer does not hold and a keystore account it also holds', async () => {
    const err = await bootError({
      ...senderEnv(chain, files, testRedis('w3s-bad')),
      SENDER_WEB3SIGNER_URL: web3signer.url,
      SENDER_WEB3SIGNER_ACCOUNTS: `${chain.funded.address},0x${'12'.repeat(20)}`,
    });
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    expect(message).toMatch(/does not hold account 0x1212121212121212121212121212121212121212/);
    expect(message).toMatch(
      new RegExp(`account ${chain.funded.address.toLowerCase()} is already loaded from keystore`),
    );
  });
});
