/**
 * Remote signer benchmark: `npm run bench:signer`. Prints figures, never passes or fails.
 *
 * Boots the real Sender (from source, its own process) as a go-livepeer remote signer against a
 * fresh anvil with a funded sender and the local Redis, and measures payments per second through
 * `POST /generate-live-payment` (several gateway sessions in flight, each carrying its signed
 * state forward, every payment needing TICKETS_PER_PAYMENT tickets). In the same run it measures
 * raw signing on this machine: the ticket library's createTicketBatch with the key, the same
 * batch through the AccountSigner port (keystore signer, what the service signs with), and
 * through the Web3Signer client against the in-repo fake Web3Signer (one eth_sign HTTP call per
 * ticket; the fake signs with ethers' pure-JS secp256k1 in this same process, so the figure shows
 * the shape of the cost, not what a real Web3Signer on its own machine would reach).
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { decodePaymentHeader, priceInfoCodec, ticketParamsCodec } from '#app/proto';
import {
  PrivateKeySigner,
  Rational,
  createTicketBatch,
  hexToBytes,
  nativeBackend,
  signTicketBatch,
  winProbForEV,
  type PriceInfo,
  type TicketParams,
} from '#app/ticket';
import { FakeWeb3Signer } from '#app/testing';
import { Web3SignerClient } from '../apps/sender/src/signing/web3signer-client.js';
import { Web3SignerAccountSigner } from '../apps/sender/src/signing/web3signer-signer.js';
import { encodeOrchestratorInfo } from '../test/support/live-gateway/wire.js';
import { printBenchJson } from './bench-json.js';
import { rate, startBenchSender, syncRate } from './sender-process.js';

const RUN_MS = 3_000;
const WARMUP_MS = 500;
const SESSIONS_IN_FLIGHT = 8;
const TICKETS_PER_PAYMENT = 10;
const TOKEN = 'bench-signer-token-0123456789abcdef';
/** 1 wei per pixel: a payment for `inPixels` pixels costs inPixels wei. */
const PRICE: PriceInfo = { pricePerUnit: 1n, pixelsPerUnit: 1n, capability: 0, constraint: '' };
const TICKET_EV = 1_000_000_000n;
const FACE_VALUE = 1_000_000_000_000_000n;

async function main(): Promise<void> {
  const backend = nativeBackend();
  if (!backend) throw new Error('the native secp256k1 backend is not available here');
  const bench = await startBenchSender('signer', TOKEN, {
    SENDER_NONCE_CAP: '4000000000',
    SENDER_NONCE_REFRESH_AT: '4000000000',
    SENDER_REMOTE_SIGNER: 'true',
    SENDER_REMOTE_SIGNER_STATE_SECRET: randomBytes(32).toString('hex'),
  });
  let fake: FakeWeb3Signer | undefined;
  let w3sClient: Web3SignerClient | undefined;
  try {
    const { sender, recipientBytes, httpUrl: signerUrl } = bench;
    const winProb = winProbForEV(TICKET_EV, FACE_VALUE);
    const freshParams = () => bench.freshParams(PRICE, FACE_VALUE, winProb);
    const orchestratorInfo = (params: TicketParams): string =>
      Buffer.from(
        encodeOrchestratorInfo({
          transcoder: 'https://orchestrator.invalid:8935',
          ticketParams: ticketParamsCodec.toMessage(params),
          priceInfo: priceInfoCodec.toMessage(PRICE),
          address: recipientBytes,
          authToken: {
            token: randomBytes(32),
            sessionId: randomBytes(8).toString('hex'),
            expiration: BigInt(Math.floor(Date.now() / 1000) + 1_800),
          },
        }),
      ).toString('base64');

    // Raw signing in this same run, before and after the HTTP figures, averaged.
    const key = hexToBytes(sender.privateKey, 'key', 32);
    const keystoreSigner = new PrivateKeySigner(key, 'bench', backend);
    const libraryParams = freshParams();
    const template = {
      params: libraryParams,
      expirationParams: libraryParams.expirationParams,
      pricePerPixel: Rational.of(PRICE.pricePerUnit, PRICE.pixelsPerUnit),
      nonces: Array.from({ length: TICKETS_PER_PAYMENT }, (_, n) => n + 1),
    };
    const measureSigning = async (): Promise<{ library: number; port: number }> => {
      const libraryBatch = () =>
        createTicketBatch({ ...template, privateKey: key }, backend).senderParams.length;
      syncRate(WARMUP_MS, libraryBatch);
      const library = syncRate(RUN_MS, libraryBatch);
      const portBatch = async () => (await signTicketBatch(template, keystoreSigner)).senderParams.length;
      await rate(WARMUP_MS, 1, portBatch);
      return { library, port: await rate(RUN_MS, 1, portBatch) };
    };
    const before = await measureSigning();

    // One gateway session: its own params and state chain, like one live stream. A keep-alive
    // agent made now: sockets idle through the synchronous signing loops above may be stale.
    const agent = new Agent({ keepAlive: true });
    const post = (body: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          `${signerUrl}/generate-live-payment`,
          {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const inPixels = Number(TICKET_EV * BigInt(TICKETS_PER_PAYMENT));
    let failures = 0;
    let firstFailure = '';
    let counting = false;
    let payments = 0;
    let tickets = 0;
    const gatewaySession = () => {
      const orchestrator = orchestratorInfo(freshParams());
      const ManifestID = randomBytes(6).toString('hex');
      let state: unknown;
      return async (): Promise<number> => {
        const res = await post(JSON.stringify({ orchestrator, ManifestID, inPixels, state }));
        const body = JSON.parse(res.text) as { payment?: string; state?: unknown };
        if (res.status !== 200 || !body.payment) {
          failures++;
          firstFailure ||= `HTTP ${res.status} ${res.text.slice(0, 200)}`;
          return 0;
        }
        state = body.state;
        if (counting) {
          payments++;
          tickets += decodePaymentHeader(body.payment).ticketSenderParams.length;
        }
        return 1;
      };
    };
    const sessions = Array.from({ length: SESSIONS_IN_FLIGHT }, gatewaySession);
    // One loop per session so each state chain stays sequential, as a gateway's does.
    const perSession = (ms: number) =>
      Promise.all(sessions.map((s) => rate(ms, 1, s))).then((rates) => rates.reduce((a, b) => a + b, 0));
    await perSession(WARMUP_MS);
    counting = true;
    const paymentsPerSecond = await perSession(RUN_MS);
    counting = false;
    agent.destroy();
    // Tickets per payment as actually signed (the carried balance makes it vary by one).
    const ticketsPerPayment = payments > 0 ? tickets / payments : Number.NaN;

    // Web3Signer: the same batches through eth_sign against the in-repo fake.
    fake = await FakeWeb3Signer.start({ keys: [sender.privateKey] });
    w3sClient = new Web3SignerClient({ url: fake.url, timeoutMs: 5_000, maxInFlight: 32 });
    const w3s = new Web3SignerAccountSigner(w3sClient, sender.address.toLowerCase(), backend);
    const w3sBatch = async () => (await signTicketBatch(template, w3s)).senderParams.length;
    await rate(WARMUP_MS, 4, w3sBatch);
    const web3signer = await rate(RUN_MS, 4, w3sBatch);

    const after = await measureSigning();
    const library = (before.library + after.library) / 2;
    const port = (before.port + after.port) / 2;

    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log(
      `Remote signer benchmark (${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}, ` +
        `${SESSIONS_IN_FLIGHT} gateway sessions in flight, ${TICKETS_PER_PAYMENT} tickets per payment, ` +
        `${RUN_MS / 1000} s per figure)\n`,
    );
    console.log(
      `library createTicketBatch (key):             ${fmt(library)} tickets/s ` +
        `(before ${fmt(before.library)}, after ${fmt(after.library)})`,
    );
    console.log(
      `signTicketBatch through the keystore signer: ${fmt(port)} tickets/s ` +
        `(before ${fmt(before.port)}, after ${fmt(after.port)})`,
    );
    console.log(`signTicketBatch through Web3Signer (fake):   ${fmt(web3signer)} tickets/s\n`);
    console.log(
      `POST /generate-live-payment:                 ${fmt(paymentsPerSecond)} payments/s ` +
        `(≈ ${fmt(paymentsPerSecond * ticketsPerPayment)} tickets/s at ${ticketsPerPayment.toFixed(1)} tickets per payment)`,
    );
    console.log(
      `  vs raw signing of the same tickets:        ${((paymentsPerSecond * ticketsPerPayment) / port).toFixed(2)} ` +
        `of the keystore signer (${fmt(port / TICKETS_PER_PAYMENT)} payments/s), ` +
        `${((paymentsPerSecond * ticketsPerPayment) / library).toFixed(2)} of createTicketBatch`,
    );
    if (failures > 0) console.log(`  ${failures} calls failed; first: ${firstFailure}`);
    printBenchJson('signer', [
      { name: 'generate-live-payment', value: paymentsPerSecond, unit: 'payments/s' },
      {
        name: 'generate-live-payment tickets',
        value: paymentsPerSecond * ticketsPerPayment,
        unit: 'tickets/s',
      },
      { name: 'raw createTicketBatch', value: library, unit: 'tickets/s' },
      { name: 'signTicketBatch, keystore signer', value: port, unit: 'tickets/s' },
      { name: 'signTicketBatch, Web3Signer fake', value: web3signer, unit: 'tickets/s' },
    ]);
  } finally {
    w3sClient?.close();
    await fake?.stop();
    await bench.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
