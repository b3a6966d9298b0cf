import { createServer, type Server } from 'node:net';
import { inspect } from 'node:util';
import { Wallet } from 'ethers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeWeb3Signer, freePort, rejectionOf, type FakeWeb3SignerFault } from '#app/testing';
import { bytesToHex, keccak256, nobleBackend, verifyTicketSignature } from '#app/ticket';
import { SenderError, SenderErrorCode } from '../sender.error.js';
import { loadWeb3SignerAccounts } from './web3signer-accounts.js';
import { Web3SignerClient, type Web3SignerOptions } from './web3signer-client.js';
import { Web3SignerAccountSigner } from './web3signer-signer.js';

const KEY = Wallet.createRandom().privateKey;
const ADDRESS = new Wallet(KEY).address.toLowerCase();
const TOKEN = 'w3s-proxy-token-0123456789';
const HASH = keccak256(new TextEncoder().encode('a ticket hash'));

const failure = (promise: Promise<unknown>) => rejectionOf(promise, SenderError);

describe('Web3Signer signing client', () => {
  let fake: FakeWeb3Signer;
  const clients: Web3SignerClient[] = [];
  const client = (overrides: Partial<Web3SignerOptions> = {}) => {
    const c = new Web3SignerClient({
      url: fake.url,
      timeoutMs: 2_000,
      maxInFlight: 4,
      bearerToken: TOKEN,
      ...overrides,
    });
    clients.push(c);
    return c;
  };
  const signer = (overrides: Partial<Web3SignerOptions> = {}) =>
    new Web3SignerAccountSigner(client(overrides), ADDRESS);

  beforeAll(async () => {
    fake = await FakeWeb3Signer.start({ keys: [KEY], bearerToken: TOKEN });
  });
  afterEach(() => {
    fake.fault = 'none';
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(() => fake.stop());

  it('lists the accounts the signer holds and sends the bearer token', async () => {
    expect(await client().accounts()).toEqual([ADDRESS]);
    expect(fake.lastAuthorization).toBe(`Bearer ${TOKEN}`);
  });

  it('signs a 32-byte hash exactly as go-livepeer does (EIP-191 over the hash, v 27/28)', async () => {
    const s = signer();
    const sig = await s.signPersonal(HASH);
    expect(sig).toHaveLength(65);
    expect([27, 28]).toContain(sig[64]);
    expect(verifyTicketSignature(s.address, HASH, sig, nobleBackend)).toBe(true);
    const batch = await s.signPersonalBatch([HASH, HASH, HASH]);
    expect(batch.map((b) => bytesToHex(b))).toEqual(Array(3).fill(bytesToHex(sig)));
  });

  it('normalises v = 0/1 to 27/28', async () => {
    const expected = await signer().signPersonal(HASH);
    fake.fault = 'v01';
    expect(await signer().signPersonal(HASH)).toEqual(expected);
  });

  it.each<[FakeWeb3SignerFault, SenderErrorCode]>([
    ['wrong-key', SenderErrorCode.SIGNER_WRONG_ACCOUNT],
    ['short', SenderErrorCode.SIGNER_BAD_RESPONSE],
    ['high-s', SenderErrorCode.SIGNER_BAD_RESPONSE],
    ['garbage', SenderErrorCode.SIGNER_BAD_RESPONSE],
    ['not-json', SenderErrorCode.SIGNER_BAD_RESPONSE],
    ['rpc-error', SenderErrorCode.SIGNER_REFUSED],
    ['http-500', SenderErrorCode.SIGNER_UNAVAILABLE],
  ])('refuses a %s answer with %s', async (fault, code) => {
    fake.fault = fault;
    const err = await failure(signer().signPersonal(HASH));
    expect(err.code).toBe(code);
    expect(err.message).not.toContain(TOKEN);
  });

  it('refuses an account the signer does not hold with its JSON-RPC error', async () => {
    const other = new Wallet(Wallet.createRandom().privateKey).address.toLowerCase();
    const err = await failure(new Web3SignerAccountSigner(client(), other).signPersonal(HASH));
    expect(err.code).toBe(SenderErrorCode.SIGNER_REFUSED);
    expect(err.message).toMatch(/No unlocked account matches/);
  });

  it('reports a wrong bearer token as refused, without echoing either token', async () => {
    const err = await failure(signer({ bearerToken: 'not-the-token' }).signPersonal(HASH));
    expect(err.code).toBe(SenderErrorCode.SIGNER_REFUSED);
    expect(err.message).not.toMatch(/not-the-token|w3s-proxy/);
  });

  it('times out a signer that never answers', async () => {
    fake.fault = 'hang';
    const started = Date.now();
    const err = await failure(signer({ timeoutMs: 300 }).signPersonal(HASH));
    expect(err.code).toBe(SenderErrorCode.SIGNER_UNAVAILABLE);
    expect(err.message).toMatch(/did not answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reports a signer that is down as unavailable', async () => {
    const port = await freePort();
    const err = await failure(
      new Web3SignerAccountSigner(client({ url: `http://127.0.0.1:${port}` }), ADDRESS).signPersonal(HASH),
    );
    expect(err.code).toBe(SenderErrorCode.SIGNER_UNAVAILABLE);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('reports a connection closed without an answer as unavailable', async () => {
    const port = await freePort();
    const rude: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => rude.listen(port, '127.0.0.1', r));
    try {
      const err = await failure(client({ url: `http://127.0.0.1:${port}` }).accounts());
      expect(err.code).toBe(SenderErrorCode.SIGNER_UNAVAILABLE);
    } finally {
      await new Promise((r) => rude.close(r));
    }
  });

  it('keeps URL credentials out of its endpoint and messages', async () => {
    fake.fault = 'http-500';
    const withUser = new URL(fake.url);
    withUser.username = 'ops';
    withUser.password = 'hunter2-secret';
    const c = client({ url: withUser.toString(), bearerToken: TOKEN });
    expect(c.endpoint).not.toContain('hunter2');
    const err = await failure(new Web3SignerAccountSigner(c, ADDRESS).signPersonal(HASH));
    expect(err.message).not.toContain('hunter2');
  });

  it("sends a URL's user:password@ as Basic auth, and the bearer token instead when there is one", async () => {
    const withUser = new URL(fake.url);
    withUser.username = 'ops';
    withUser.password = 'hunter2-secret';
    await client({ url: withUser.toString(), bearerToken: undefined })
      .accounts()
      .catch(() => undefined);
    expect(fake.lastAuthorization).toBe(`Basic ${Buffer.from('ops:hunter2-secret').toString('base64')}`);
    expect(await client({ url: withUser.toString() }).accounts()).toEqual([ADDRESS]);
    expect(fake.lastAuthorization).toBe(`Bearer ${TOKEN}`);
  });

  it('keeps the bearer token and URL credentials out of inspection and JSON of a signer', () => {
    const withUser = new URL(fake.url);
    withUser.username = 'ops';
    withUser.password = 'hunter2-secret';
    const s = new Web3SignerAccountSigner(client({ url: withUser.toString() }), ADDRESS);
    for (const text of [inspect(s, { depth: 10, showHidden: true }), JSON.stringify(s)]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('hunter2');
    }
  });

  it('keeps at most maxInFlight calls open at once', async () => {
    const s = signer({ maxInFlight: 2 });
    const before = fake.signRequests;
    fake.maxConcurrent = 0;
    const sigs = await s.signPersonalBatch(
      Array.from({ length: 20 }, (_, i) => keccak256(new Uint8Array([i]))),
    );
    expect(sigs).toHaveLength(20);
    expect(fake.signRequests - before).toBe(20);
    expect(fake.maxConcurrent).toBeLessThanOrEqual(2);
  });

  describe('boot loading', () => {
    const options = (): Web3SignerOptions => ({
      url: fake.url,
      timeoutMs: 2_000,
      maxInFlight: 4,
      bearerToken: TOKEN,
    });

    it('takes every held account when none is named, each proven by a probe signature', async () => {
      const problems: string[] = [];
      const { client: c, signers } = await loadWeb3SignerAccounts(options(), [], problems);
      clients.push(c);
      expect(problems).toEqual([]);
      expect(signers.map((s) => s.addressHex)).toEqual([ADDRESS]);
    });

    it('lists a named account the signer does not hold, and a key that signs for another address', async () => {
      const other = new Wallet(Wallet.createRandom().privateKey).address.toLowerCase();
      const problems: string[] = [];
      clients.push((await loadWeb3SignerAccounts(options(), [other], problems)).client);
      expect(problems).toEqual([expect.stringMatching(new RegExp(`does not hold account ${other}`))]);

      fake.fault = 'wrong-key';
      const wrong: string[] = [];
      const loaded = await loadWeb3SignerAccounts(options(), [ADDRESS], wrong);
      clients.push(loaded.client);
      expect(loaded.signers).toEqual([]);
      expect(wrong).toEqual([expect.stringMatching(/failed its probe signature: SIGNER_WRONG_ACCOUNT/)]);
    });

    it('reports a signer that is down', async () => {
      const problems: string[] = [];
      const url = `http://127.0.0.1:${await freePort()}`;
      clients.push((await loadWeb3SignerAccounts({ ...options(), url }, [], problems)).client);
      expect(problems).toEqual([expect.stringMatching(/SIGNER_UNAVAILABLE: cannot reach/)]);
    });
  });
});
