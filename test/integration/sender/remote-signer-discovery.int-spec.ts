import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getAddress, getBytes, keccak256, toUtf8Bytes, verifyMessage, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '#app/common';
import { capabilityModelsCodec, type OrchestratorInfo } from '#app/proto';
import { bondingManagerAt } from '#app/chain';
import { ANVIL_PRIVATE_KEYS, freePort, freshPendingNonce, setServiceUri } from '#app/testing';
import { bytesToHex, hexToBytes, type PriceInfo } from '#app/ticket';
import { SenderAccounts } from '../../../apps/sender/src/accounts/sender-accounts.js';
import { OrchestratorPool } from '../../../apps/sender/src/remote-signer/discovery/orchestrator-pool.js';
import { createTestPki, type TestPki } from '../tls/certs.js';
import { startOrchestratorPeer, type OrchestratorPeer } from './orchestrator-peer.js';
import {
  bootError,
  bootSender,
  GATEWAY_TOKEN,
  senderEnv,
  startSenderChain,
  testRedis,
  writeSenderFiles,
  type RunningSender,
  type SenderChain,
  type SenderFiles,
} from './sender-fixture.js';

const LV2V = 35;
const T2I = 27;
const LLM = 33;
const price = (pricePerUnit: bigint, capability = 0, constraint = ''): PriceInfo => ({
  pricePerUnit,
  pixelsPerUnit: 1n,
  capability,
  constraint,
});
const models = (named: Record<number, string[]>) =>
  capabilityModelsCodec.encode(Object.entries(named).map(([c, m]) => ({ capability: Number(c), models: m })));

interface Listed {
  address: string;
  score: number;
  capabilities: string[];
}

async function discover(sender: RunningSender, query = ''): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${sender.httpUrl}/discover-orchestrators${query}`);
  return { status: res.status, body: await res.json() };
}

describe("Sender remote signer: orchestrator discovery (go-livepeer's -remoteDiscovery)", () => {
  let chain: SenderChain;
  let files: SenderFiles;
  let pki: TestPki;
  const peers: OrchestratorPeer[] = [];
  const senders: RunningSender[] = [];
  let a: OrchestratorPeer;
  let e: OrchestratorPeer;
  let signer: RunningSender;
  const other = Wallet.createRandom().address;

  const peer = async (
    info: Partial<OrchestratorInfo> | undefined,
    capabilityPrices: PriceInfo[] = [],
    port = 0,
  ) => {
    const p = await startOrchestratorPeer(pki, undefined, port);
    if (info) {
      p.answer = {
        info: {
          transcoder: `https://127.0.0.1:${p.port}`,
          address: hexToBytes(chain.recipient.address, 'recipient', 20),
          priceInfo: price(100n),
          capabilities: new Uint8Array(0),
          ...info,
        },
        capabilityPrices,
      };
    }
    peers.push(p);
    return p;
  };
  const boot = async (extra: Record<string, string>, name: string) => {
    const s = await bootSender(
      senderEnv(chain, files, testRedis(name), {
        SENDER_REMOTE_SIGNER: 'true',
        SENDER_REMOTE_SIGNER_DISCOVERY: 'true',
        ...extra,
      }),
    );
    senders.push(s);
    return s;
  };

  beforeAll(async () => {
    chain = await startSenderChain();
    files = await writeSenderFiles(chain);
    pki = createTestPki();
    a = await peer(
      {
        capabilities: models({
          [LV2V]: ['streamdiffusion', 'pricey-model'],
          [T2I]: ['cheap-model'],
          [LLM]: ['big'],
        }),
      },
      [price(950n, LV2V, 'pricey-model'), price(150n, T2I, 'cheap-model')],
    );
    const noPrice = await peer({ priceInfo: undefined, capabilities: models({ [LLM]: ['big'] }) });
    const closed = await freePort();
    const transcodeOnly = await peer({});
    e = await peer({
      address: hexToBytes(other, 'other', 20),
      priceInfo: price(50n),
      capabilities: models({ [T2I]: ['cheap-model'] }),
    });
    signer = await boot(
      {
        SENDER_ALLOWLIST: 'false',
        SENDER_REMOTE_SIGNER_ORCHESTRATORS: [
          `127.0.0.1:${a.port}`,
          `https://127.0.0.1:${noPrice.port}`,
          `127.0.0.1:${closed}`,
          `127.0.0.1:${transcodeOnly.port}`,
          `127.0.0.1:${e.port}`,
        ].join(','),
        SENDER_REMOTE_SIGNER_MAX_PRICE: '800',
        SENDER_REMOTE_SIGNER_MAX_PRICE_PER_CAPABILITY: JSON.stringify({
          capabilities_prices: [
            {
              pipeline: 'live-video-to-video',
              model_id: 'pricey-model',
              price_per_unit: 900,
              pixels_per_unit: 1,
            },
            { pipeline: 'text-to-image', model_id: 'cheap-model', price_per_unit: 200, pixels_per_unit: 1 },
          ],
        }),
      },
      'discovery',
    );
  });
  afterAll(async () => {
    for (const s of senders) await s.close();
    for (const p of peers) await p.close();
    await chain?.stop();
    files?.cleanup();
    pki?.remove();
  });

  it('lists the orchestrators that answer with a recipient, a price and models within the ceilings', async () => {
    const { status, body } = await discover(signer);
    expect(status).toBe(200);
    // No Authorization header although API tokens are configured: discovery signs nothing.
    expect(body).toEqual([
      {
        address: `https://127.0.0.1:${a.port}`,
        score: 1,
        // pricey-model: its own price 950 is above its 900 ceiling
        capabilities: ['live-video-to-video/streamdiffusion', 'llm/big', 'text-to-image/cheap-model'],
      },
      { address: `https://127.0.0.1:${e.port}`, score: 1, capabilities: ['text-to-image/cheap-model'] },
    ]);
  });

  it('asks each orchestrator as a gateway does: first account, its signed address, no capacity check', async () => {
    const account = signer.app.get(SenderAccounts).list()[0];
    const hex = getAddress(account.addressHex);
    // The signature /sign-orchestrator-info answers: go-livepeer's Sign, personal-sign of keccak256(hex text)
    const res = await fetch(`${signer.httpUrl}/sign-orchestrator-info`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${GATEWAY_TOKEN}`, 'Ticketpay-Sender': hex },
    });
    const answered = (await res.json()) as { address: string; signature: string };
    expect(answered.address).toBe(hex);
    for (const p of peers.filter((x) => x.requests.length > 0)) {
      const req = p.requests[0];
      expect(bytesToHex(req.address)).toBe(account.addressHex);
      expect(bytesToHex(req.sig)).toBe(answered.signature);
      expect(verifyMessage(getBytes(keccak256(toUtf8Bytes(hex))), bytesToHex(req.sig))).toBe(hex);
      expect(req.ignoreCapacityCheck).toBe(true);
      expect(req.capabilities).toHaveLength(0);
    }
    expect(peers.filter((x) => x.requests.length > 0)).toHaveLength(4);
  });

  it('filters by repeated caps values: exact names, in the order asked, each orchestrator once', async () => {
    const addresses = async (query: string) =>
      ((await discover(signer, query)).body as Listed[]).map((o) => o.address);
    const [aUrl, eUrl] = [`https://127.0.0.1:${a.port}`, `https://127.0.0.1:${e.port}`];
    expect(await addresses('?caps=text-to-image/cheap-model')).toEqual([aUrl, eUrl]);
    expect(await addresses('?caps=llm/big&caps=text-to-image/cheap-model')).toEqual([aUrl, eUrl]);
    expect(await addresses('?caps=live-video-to-video/pricey-model')).toEqual([]);
    expect(await addresses('?caps=&caps=nope')).toEqual([]);
    expect(await addresses('?caps=live-video-to-video/streamdiffusion&cap=llm/big')).toEqual([aUrl]);
  });

  it('a refresh takes what the orchestrators answer now', async () => {
    a.answer!.info.priceInfo = price(5_000n);
    await signer.app.get(OrchestratorPool).refresh();
    const { body } = await discover(signer);
    // streamdiffusion and big were priced by the global price, now above 800
    expect((body as Listed[])[0].capabilities).toEqual(['text-to-image/cheap-model']);
    a.answer!.info.priceInfo = price(100n);
  });

  it("lists the live runners each orchestrator's GET /discovery names, merged as go-livepeer merges them", async () => {
    const aUrl = `https://127.0.0.1:${a.port}`;
    const extra = `https://127.0.0.1:${await freePort()}`;
    const runner = (app: string, price: unknown, more: Record<string, unknown> = {}) => ({
      url: `${aUrl}/apps/${app}/session`,
      app,
      capacity: 2,
      capacity_used: 1,
      capacity_available: 1,
      price_info: { price, currency: 'wei', unit: 'seconds' },
      ...more,
    });
    // JSON text as an orchestrator writes it: exact decimals a double would round, keys in any case.
    a.discovery = {
      body: `[
        {"address": "${aUrl}/", "runners": [
          {"URL": "${aUrl}/apps/echo/session", "gpu": {"id": "0", "name": "RTX 4090", "vram_mb": 24564},
           "app": "echo", "version": "1.2", "mode": "persistent", "capacity": 9007199254740993,
           "capacity_used": 1, "capacity_available": 9007199254740992,
           "price_info": {"price": 12.50, "currency": " WEI ", "unit": "Seconds"}},
          ${JSON.stringify(runner('echo', 99, { url: `${aUrl}/apps/echo/session`, capacity_used: 2 }))},
          ${JSON.stringify(runner('exact', '0.000000000000000000123456789012345678', { price_info: { price: '0.000000000000000000123456789012345678', currency: 'wei', unit: '720p-pixel-seconds' } }))},
          ${JSON.stringify(runner('pricey', 801))},
          ${JSON.stringify(runner('dear', 1001))},
          ${JSON.stringify(runner('  ', 1))},
          ${JSON.stringify(runner('usage-app', 1, { price_info: { price: 1, currency: 'wei', unit: 'usage' } }))},
          ${JSON.stringify(runner('usd', 1, { price_info: { price: 1, currency: 'USD', unit: 'seconds' } }))},
          ${JSON.stringify(runner('free', 0))},
          ${JSON.stringify(runner('unpriced', 1, { price_info: null }))}
        ]},
        {"address": "${extra}", "runners": [${JSON.stringify(runner('elsewhere', 3, { url: `${extra}/apps/elsewhere/app`, gpu: 1 }))}]},
        {"address": "not a url", "runners": [${JSON.stringify(runner('lost', 3))}]},
        {"address": "${extra}/", "runners": []}
      ]`,
    };
    // A member of a type Go refuses (a string capacity) drops the whole reply, as json.Unmarshal does.
    e.discovery = {
      body: JSON.stringify([
        { address: `https://127.0.0.1:${e.port}`, runners: [runner('typo', 1, { capacity: '2' })] },
      ]),
    };
    const asked = a.discoveryAsks;
    await signer.app.get(OrchestratorPool).refresh();
    expect(a.discoveryAsks).toBe(asked + 1);

    const res = await fetch(`${signer.httpUrl}/discover-orchestrators`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await res.text();
    // Written back exactly: integers past 2^53 and the decimals as the orchestrator wrote them.
    expect(text).toContain('"capacity":9007199254740993');
    expect(text).toContain('"capacity_available":9007199254740992');
    expect(text).toContain('"price":12.50');
    expect(text).toContain('"price":0.000000000000000000123456789012345678');
    const body = JSON.parse(text) as (Listed & { runners?: Record<string, unknown>[] })[];
    expect(body.map((o) => o.address)).toEqual([aUrl, `https://127.0.0.1:${e.port}`, extra]);
    expect(body[0].capabilities).toEqual([
      'echo',
      'exact',
      'live-video-to-video/streamdiffusion',
      'llm/big',
      'text-to-image/cheap-model',
    ]);
    // Members in Go's order, the first runner at a URL kept; refused ones left out.
    expect(body[0].runners?.map((r) => Object.keys(r))).toEqual([
      [
        'url',
        'gpu',
        'app',
        'version',
        'mode',
        'capacity',
        'capacity_used',
        'capacity_available',
        'price_info',
      ],
      ['url', 'app', 'capacity', 'capacity_used', 'capacity_available', 'price_info'],
    ]);
    expect(body[0].runners?.[0]).toMatchObject({
      url: `${aUrl}/apps/echo/session`,
      gpu: { id: '0', name: 'RTX 4090', vram_mb: 24564 },
      app: 'echo',
      price_info: { currency: ' WEI ', unit: 'Seconds' },
    });
    expect(body[1]).toEqual({
      address: `https://127.0.0.1:${e.port}`,
      score: 1,
      capabilities: ['text-to-image/cheap-model'],
    });
    expect(body[2]).toEqual({
      address: extra,
      score: 1,
      capabilities: ['elsewhere'],
      runners: [{ ...runner('elsewhere', 3, { url: `${extra}/apps/elsewhere/app` }), gpu: { id: '1' } }].map(
        ({ url, gpu, app, capacity, capacity_used, capacity_available, price_info }) => ({
          url,
          gpu,
          app,
          capacity,
          capacity_used,
          capacity_available,
          price_info,
        }),
      ),
    });
    // An app is a capability: caps=<app> finds the orchestrators whose runners serve it.
    const byApp = (await discover(signer, '?caps=elsewhere&caps=echo')).body as Listed[];
    expect(byApp.map((o) => o.address)).toEqual([extra, aUrl]);

    // An orchestrator this signer may not pay (the allowlist: e's recipient is no contact) lists no runner.
    e.discovery = {
      body: JSON.stringify([{ address: `https://127.0.0.1:${e.port}`, runners: [runner('theirs', 1)] }]),
    };
    const strict = await boot(
      { SENDER_REMOTE_SIGNER_ORCHESTRATORS: `127.0.0.1:${a.port},127.0.0.1:${e.port}` },
      'discovery-runners',
    );
    const listed = (await discover(strict)).body as (Listed & { runners?: { app: string }[] })[];
    expect(listed.map((o) => o.address)).toEqual([aUrl, extra]);
    expect(JSON.stringify(listed)).not.toContain('theirs');
    // Without SENDER_REMOTE_SIGNER_MAX_PRICE its runners are held to the contact's 1,000 wei.
    expect(listed[0].capabilities).toContain('pricey');
    expect(listed[0].capabilities).not.toContain('dear');

    a.discovery = undefined;
    e.discovery = undefined;
    await signer.app.get(OrchestratorPool).refresh();
    expect(
      ((await discover(signer)).body as { runners?: unknown }[]).every((o) => o.runners === undefined),
    ).toBe(true);
  });

  it('an empty pool is refilled on demand; 503 while nothing can be listed; the allowlist holds', async () => {
    const port = await freePort();
    // allowlist on (the fixture's contacts: only chain.recipient, at most 1,000 wei per unit)
    const s = await boot(
      { SENDER_REMOTE_SIGNER_ORCHESTRATORS: `127.0.0.1:${port},127.0.0.1:${e.port}` },
      'discovery-empty',
    );
    const empty = await discover(s);
    expect(empty.status).toBe(503);
    expect(empty.body).toMatchObject({ error: { message: 'cache empty', code: 'DISCOVERY_UNAVAILABLE' } });
    await peer(
      { capabilities: models({ [LV2V]: ['streamdiffusion', 'x'] }) },
      [price(1_500n, LV2V, 'x')], // above the contact's 1,000
      port,
    );
    const filled = await discover(s);
    expect(filled.status).toBe(200);
    expect(filled.body).toEqual([
      {
        address: `https://127.0.0.1:${port}`,
        score: 1,
        capabilities: ['live-video-to-video/streamdiffusion'],
      },
    ]);
  });

  it('with SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL it asks the orchestrators the webhook lists (-orchWebhookUrl)', async () => {
    const listed = await peer({ capabilities: models({ [T2I]: ['cheap-model'] }) });
    const asks: (string | undefined)[] = [];
    const webhook = createServer((req, res) => {
      asks.push(req.headers.authorization);
      res.setHeader('content-type', 'application/json');
      // go-livepeer's webhook answer: an array of {address, score}; an address it cannot dial is skipped.
      res.end(
        JSON.stringify([
          { address: `https://127.0.0.1:${listed.port}`, score: 0.5 },
          { address: 'not an orchestrator' },
        ]),
      );
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    try {
      const { port } = webhook.address() as AddressInfo;
      const s = await boot(
        {
          SENDER_ALLOWLIST: 'false',
          SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL: `http://pool:s3cret@127.0.0.1:${port}/orchestrators`,
        },
        'discovery-webhook',
      );
      const { status, body } = await discover(s);
      expect(status).toBe(200);
      expect(body).toEqual([
        {
          address: `https://127.0.0.1:${listed.port}`,
          score: 1,
          capabilities: ['text-to-image/cheap-model'],
        },
      ]);
      // The URL's credentials go as Basic auth, as Go's client sends them.
      expect(asks[0]).toBe(`Basic ${Buffer.from('pool:s3cret').toString('base64')}`);
    } finally {
      webhook.closeAllConnections();
      await new Promise((r) => webhook.close(r));
    }
  });

  it('without SENDER_REMOTE_SIGNER_ORCHESTRATORS it asks the on-chain pool: BondingManager, ServiceRegistry', async () => {
    const onChain = await peer({ capabilities: models({ [LLM]: ['big'] }) });
    const registry = chain.protocol.addresses.serviceRegistry;
    // A second active orchestrator whose URI is plain http: gRPC needs TLS, so it is not dialled.
    const owner = new Wallet(ANVIL_PRIVATE_KEYS[0], chain.anvil.provider);
    const plain = new Wallet(ANVIL_PRIVATE_KEYS[5], chain.anvil.provider);
    const bonding = bondingManagerAt(chain.protocol.addresses.bondingManager, owner);
    await (await bonding.register(plain.address, { nonce: await freshPendingNonce(owner) })).wait();
    await (await bonding.setActive(plain.address, true, { nonce: await freshPendingNonce(owner) })).wait();
    await setServiceUri(plain, registry, `http://127.0.0.1:${e.port}`);
    await setServiceUri(chain.recipient, registry, `https://127.0.0.1:${onChain.port}`);
    const asked = e.requests.length;
    const s = await boot({ SENDER_ALLOWLIST: 'false' }, 'discovery-chain');
    const { status, body } = await discover(s);
    expect(status).toBe(200);
    expect(body).toEqual([
      { address: `https://127.0.0.1:${onChain.port}`, score: 1, capabilities: ['llm/big'] },
    ]);
    expect(e.requests.length).toBe(asked);
  });

  it('without SENDER_REMOTE_SIGNER_DISCOVERY it answers 503 as go-livepeer without a pool', async () => {
    const s = await bootSender(
      senderEnv(chain, files, testRedis('discovery-off'), { SENDER_REMOTE_SIGNER: 'true' }),
    );
    senders.push(s);
    const { status, body } = await discover(s);
    expect(status).toBe(503);
    expect(body).toMatchObject({ error: { message: 'no orchestrator pool configured' } });
  });

  it('refuses settings that would do nothing or reach orchestrators in the clear', async () => {
    const base = senderEnv(chain, files, testRedis('discovery-boot'));
    const problems = async (extra: Record<string, string>) => {
      const err = await bootError({ ...base, ...extra });
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems.join('\n');
    };
    expect(await problems({ SENDER_REMOTE_SIGNER_DISCOVERY: 'true' })).toMatch(
      /SENDER_REMOTE_SIGNER_DISCOVERY is part of the remote signer/,
    );
    expect(
      await problems({ SENDER_REMOTE_SIGNER: 'true', SENDER_REMOTE_SIGNER_ORCHESTRATORS: '127.0.0.1:8935' }),
    ).toMatch(/SENDER_REMOTE_SIGNER_ORCHESTRATORS is read only by discovery/);
    const webhookUrl = 'https://pool.example.com/orchestrators?token=s3cret';
    expect(
      await problems({ SENDER_REMOTE_SIGNER: 'true', SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL: webhookUrl }),
    ).toMatch(/SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL is read only by discovery/);
    const both = await problems({
      SENDER_REMOTE_SIGNER: 'true',
      SENDER_REMOTE_SIGNER_DISCOVERY: 'true',
      SENDER_REMOTE_SIGNER_ORCHESTRATORS: '127.0.0.1:8935',
      SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL: webhookUrl,
    });
    expect(both).toMatch(
      /set either SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL or SENDER_REMOTE_SIGNER_ORCHESTRATORS/,
    );
    expect(both).not.toContain('s3cret');
    expect(
      await problems({
        SENDER_REMOTE_SIGNER: 'true',
        SENDER_REMOTE_SIGNER_DISCOVERY: 'true',
        SENDER_REMOTE_SIGNER_ORCHESTRATORS: 'http://127.0.0.1:8935',
      }),
    ).toMatch(/SENDER_REMOTE_SIGNER_ORCHESTRATORS.*orchestrators serve https only/);
  });
});
