import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeWeb3Signer, rejectionOf } from '#app/testing';
import { keccak256, nobleBackend, verifyTicketSignature } from '#app/ticket';
import { SenderError, SenderErrorCode } from '../../../apps/sender/src/sender.error.js';
import {
  Web3SignerClient,
  type Web3SignerOptions,
} from '../../../apps/sender/src/signing/web3signer-client.js';
import { Web3SignerAccountSigner } from '../../../apps/sender/src/signing/web3signer-signer.js';
import { createTestPki, type TestPki } from './certs.js';

const KEY = Wallet.createRandom().privateKey;
const ADDRESS = new Wallet(KEY).address.toLowerCase();
const HASH = keccak256(new TextEncoder().encode('tls ticket hash'));

/** The Web3Signer client over HTTPS with client certificates, as Web3Signer's TLS options allow. */
describe('Web3Signer client over TLS', () => {
  let pki: TestPki;
  let fake: FakeWeb3Signer;
  const clients: Web3SignerClient[] = [];

  beforeAll(async () => {
    pki = createTestPki();
    fake = await FakeWeb3Signer.start({
      keys: [KEY],
      tls: { cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey), clientCa: pki.read(pki.caCert) },
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await fake?.stop();
    pki?.remove();
  });

  const sign = (options: Partial<Web3SignerOptions>) => {
    const client = new Web3SignerClient({ url: fake.url, timeoutMs: 3_000, maxInFlight: 4, ...options });
    clients.push(client);
    return new Web3SignerAccountSigner(client, ADDRESS).signPersonal(HASH);
  };
  const failure = (promise: Promise<unknown>) => rejectionOf(promise, SenderError);

  it('signs with the CA trusted and a client certificate the signer accepts', async () => {
    expect(fake.url).toMatch(/^https:/);
    const sig = await sign({
      ca: pki.read(pki.caCert),
      cert: pki.read(pki.clientCert),
      key: pki.read(pki.clientKey),
    });
    expect(verifyTicketSignature(Buffer.from(ADDRESS.slice(2), 'hex'), HASH, sig, nobleBackend)).toBe(true);
  });

  it('refuses a server its CA list does not trust', async () => {
    const err = await failure(
      sign({ ca: pki.read(pki.rogueCaCert), cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) }),
    );
    expect(err.code).toBe(SenderErrorCode.SIGNER_UNAVAILABLE);
  });

  it('is turned away without a client certificate, or with one from another CA', async () => {
    expect((await failure(sign({ ca: pki.read(pki.caCert) }))).code).toBe(SenderErrorCode.SIGNER_UNAVAILABLE);
    const rogue = await failure(
      sign({
        ca: pki.read(pki.caCert),
        cert: pki.read(pki.rogueClientCert),
        key: pki.read(pki.rogueClientKey),
      }),
    );
    expect(rogue.code).toBe(SenderErrorCode.SIGNER_UNAVAILABLE);
  });
});
