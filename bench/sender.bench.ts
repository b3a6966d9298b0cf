/**
 * Sender benchmark: `npm run bench:sender`. Prints figures, never passes or fails.
 *
 * Boots the real Sender service (from source, in its own process) against a fresh anvil with a
 * funded sender and the local Redis, then measures tickets signed per second over gRPC
 * (CreateTicketBatch with several calls in flight, per batch size), and in this same run the raw
 * native signing rate on this machine: the libsecp256k1 sign call alone, and the ticket library's
 * createTicketBatch (hash + EIP-191 digest + sign). The ratio says what the service costs on top:
 * session lookup, params validation, the Redis nonce allocation, Payment encoding and gRPC.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { encryptKeystoreJson, parseEther, Wallet } from 'ethers';
import { roundsManagerAt, ticketBrokerAt } from '#app/chain';
import { repoRoot } from '#app/common';
import { PROTO_DIR, priceInfoCodec, ticketParamsCodec } from '#app/proto';
import {
  Rational,
  bytesToBigInt,
  computeRecipientRand,
  createTicketBatch,
  hexToBytes,
  nativeBackend,
  recipientRandHash,
  winProbForEV,
  type PriceInfo,
} from '#app/ticket';
import { ANVIL_PRIVATE_KEYS, flushRedisPrefix, freePort, startAnvil, deployProtocol } from '#app/testing';
import { printBenchJson } from './bench-json.js';

const RUN_MS = 3_000;
const WARMUP_MS = 500;
const IN_FLIGHT = 8;
const BATCH_SIZES = [1, 10, 100];
const TOKEN = 'bench-token-0123456789abcdef';
const PASSWORD = 'bench-password';
const PRICE: PriceInfo = { pricePerUnit: 100n, pixelsPerUnit: 1n, capability: 0, constraint: '' };
const SENDER_PROTO = join(PROTO_DIR, 'ticketpay', 'sender', 'v1', 'sender.proto');

type Callback = (err: Error | null, res?: unknown) => void;
type RawClient = Client & Record<string, (req: unknown, meta: Metadata, cb: Callback) => void>;

function grpcClient(target: string): {
  call: <T>(method: string, req: unknown) => Promise<T>;
  close(): void;
} {
  const def = loadPackageDefinition(
    loadSync(SENDER_PROTO, {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      includeDirs: [PROTO_DIR],
    }),
  );
  const pkg = def.ticketpay as unknown as { sender: { v1: { Sender: ServiceClientConstructor } } };
  const raw = new pkg.sender.v1.Sender(target, credentials.createInsecure()) as unknown as RawClient;
  const meta = new Metadata();
  meta.set('authorization', `Bearer ${TOKEN}`);
  return {
    call: <T>(method: string, req: unknown) =>
      new Promise<T>((resolve, reject) =>
        raw[method](req, meta, (err, res) => (err ? reject(err) : resolve(res as T))),
      ),
    close: () => raw.close(),
  };
}

/** Runs `op` with `inFlight` concurrent loops for `ms`; returns the units it reported per second. */
async function rate(ms: number, inFlight: number, op: () => Promise<number>): Promise<number> {
  const deadline = performance.now() + ms;
  const started = performance.now();
  let units = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        // Not `units += await op()`: that reads `units` before the await and loses other loops' counts.
        const n = await op();
        units += n;
      }
    }),
  );
  return units / ((performance.now() - started) / 1000);
}

/** Synchronous variant for in-process signing. */
function syncRate(ms: number, op: () => number): number {
  const started = performance.now();
  const deadline = started + ms;
  let units = 0;
  while (performance.now() < deadline) units += op();
  return units / ((performance.now() - started) / 1000);
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sender exited with ${child.exitCode}:\n${output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`sender not healthy within 60 s:\n${output()}`);
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisPrefix = `ticketpay-bench:sender:${Date.now().toString(36)}:`;
  const backend = nativeBackend();
  if (!backend) throw new Error('the native secp256k1 backend is not available here');
  const anvil = await startAnvil();
  const dir = mkdtempSync(join(tmpdir(), 'ticketpay-sender-bench-'));
  let child: ChildProcess | undefined;
  try {
    const owner = new Wallet(ANVIL_PRIVATE_KEYS[0], anvil.provider);
    const recipient = new Wallet(ANVIL_PRIVATE_KEYS[9]);
    const protocol = await deployProtocol(owner, { roundLength: 200n, recipients: [recipient.address] });
    // Anvil's public dev key #1 (test key material only).
    const sender = new Wallet(ANVIL_PRIVATE_KEYS[1], anvil.provider);
    const deposit = parseEther('10');
    await (
      await ticketBrokerAt(protocol.addresses.ticketBroker, sender).fundDepositAndReserve(deposit, deposit, {
        value: 2n * deposit,
      })
    ).wait();

    const keystore = join(dir, 'sender.json');
    writeFileSync(
      keystore,
      await encryptKeystoreJson({ address: sender.address, privateKey: sender.privateKey }, PASSWORD, {
        scrypt: { N: 1 << 10 },
      }),
    );
    writeFileSync(join(dir, 'password'), PASSWORD);
    writeFileSync(
      join(dir, 'tokens.yaml'),
      `clients:\n  - name: bench\n    token: "${TOKEN}"\n    senders: ["${sender.address}"]\n`,
    );

    const grpcUrl = `127.0.0.1:${await freePort()}`;
    const httpPort = await freePort();
    child = spawn(
      process.execPath,
      [
        '--conditions=ticketpay-source',
        '--import',
        '@swc-node/register/esm-register',
        'apps/sender/src/main.ts',
      ],
      {
        cwd: repoRoot(),
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH ?? '',
          REDIS_URL: redisUrl,
          REDIS_PREFIX: redisPrefix,
          ETH_RPC_URL: anvil.url,
          CONTROLLER_ADDRESS: protocol.controller,
          SENDER_GRPC_URL: grpcUrl,
          SENDER_HTTP_PORT: String(httpPort),
          SENDER_KEYSTORE_FILES: keystore,
          SENDER_KEYSTORE_PASSWORD_FILE: join(dir, 'password'),
          SENDER_API_TOKENS_FILE: join(dir, 'tokens.yaml'),
          SENDER_NONCE_CAP: '4000000000',
          SENDER_NONCE_REFRESH_AT: '4000000000',
          SENDER_MAX_BATCH_SIZE: String(Math.max(...BATCH_SIZES)),
        },
      },
    );
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitForHealth(`http://127.0.0.1:${httpPort}/health`, child, () => output);

    const rounds = roundsManagerAt(protocol.addresses.roundsManager, anvil.provider);
    const creationRound = await rounds.lastInitializedRound();
    const creationRoundBlockHash = hexToBytes(await rounds.blockHashForRound(creationRound), 'hash', 32);
    const expirationBlock = BigInt(await anvil.provider.getBlockNumber()) + 40n;
    const senderBytes = hexToBytes(sender.address.toLowerCase(), 'sender', 20);
    const faceValue = 1_000_000_000_000_000n;
    const winProb = winProbForEV(1_000_000_000n, faceValue);
    /** Fresh params (a new commitment) per measurement, as an orchestrator would give them. */
    const freshParams = () => {
      const seed = bytesToBigInt(randomBytes(32));
      const rand = computeRecipientRand(randomBytes(32), {
        seed,
        sender: senderBytes,
        faceValue,
        winProb,
        expirationBlock,
        pricePerPixel: Rational.of(PRICE.pricePerUnit, PRICE.pixelsPerUnit),
        creationRound,
        creationRoundBlockHash,
      });
      return {
        recipient: hexToBytes(recipient.address.toLowerCase(), 'recipient', 20),
        faceValue,
        winProb,
        recipientRandHash: recipientRandHash(rand),
        seed,
        expirationBlock,
        expirationParams: { creationRound, creationRoundBlockHash },
      };
    };

    // Raw native signing in this same run, measured before and after the gRPC figures (the
    // service is idle meanwhile) and averaged, so load drifting on the machine hits both alike.
    const key = hexToBytes(sender.privateKey, 'key', 32);
    const digests = Array.from({ length: 1024 }, () => new Uint8Array(randomBytes(32)));
    const libraryParams = freshParams();
    const nonces = Array.from({ length: 100 }, (_, n) => n + 1);
    const measureSigning = (): { rawSign: number; librarySign: number } => {
      let i = 0;
      const rawOne = () => (backend.sign(digests[i++ & 1023], key), 1);
      const libraryBatch = () =>
        createTicketBatch(
          {
            params: libraryParams,
            expirationParams: libraryParams.expirationParams,
            pricePerPixel: Rational.of(PRICE.pricePerUnit, PRICE.pixelsPerUnit),
            nonces,
            privateKey: key,
          },
          backend,
        ).senderParams.length;
      syncRate(WARMUP_MS, rawOne);
      const rawSign = syncRate(RUN_MS, rawOne);
      syncRate(WARMUP_MS, libraryBatch);
      return { rawSign, librarySign: syncRate(RUN_MS, libraryBatch) };
    };
    const before = measureSigning();

    const client = grpcClient(grpcUrl);
    const grpcRates: { size: number; ticketsPerSecond: number; callsPerSecond: number }[] = [];
    for (const size of BATCH_SIZES) {
      const { sessionId } = await client.call<{ sessionId: string }>('StartSession', {
        sender: senderBytes,
        ticketParams: ticketParamsCodec.toMessage(freshParams()),
        expectedPrice: priceInfoCodec.toMessage(PRICE),
      });
      const op = async () => {
        await client.call('CreateTicketBatch', { sessionId, size });
        return size;
      };
      await rate(WARMUP_MS, IN_FLIGHT, op);
      const ticketsPerSecond = await rate(RUN_MS, IN_FLIGHT, op);
      grpcRates.push({ size, ticketsPerSecond, callsPerSecond: ticketsPerSecond / size });
    }
    client.close();

    const after = measureSigning();
    const rawSign = (before.rawSign + after.rawSign) / 2;
    const librarySign = (before.librarySign + after.librarySign) / 2;

    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log(
      `Sender benchmark (${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}, ` +
        `${IN_FLIGHT} calls in flight, ${RUN_MS / 1000} s per figure)\n`,
    );
    console.log(
      `raw native signing (libsecp256k1 sign call):         ${fmt(rawSign)} signatures/s ` +
        `(before ${fmt(before.rawSign)}, after ${fmt(after.rawSign)})`,
    );
    console.log(
      `ticket library createTicketBatch (hash+digest+sign): ${fmt(librarySign)} tickets/s ` +
        `(before ${fmt(before.librarySign)}, after ${fmt(after.librarySign)})\n`,
    );
    console.log('| batch size | gRPC tickets/s | gRPC calls/s | vs raw signing | vs library signing |');
    console.log('| ---: | ---: | ---: | ---: | ---: |');
    for (const r of grpcRates) {
      console.log(
        `| ${r.size} | ${fmt(r.ticketsPerSecond)} | ${fmt(r.callsPerSecond)} | ` +
          `${(r.ticketsPerSecond / rawSign).toFixed(2)} | ${(r.ticketsPerSecond / librarySign).toFixed(2)} |`,
      );
    }
    printBenchJson('sender', [
      { name: 'raw native signing', value: rawSign, unit: 'signatures/s' },
      { name: 'library createTicketBatch', value: librarySign, unit: 'tickets/s' },
      ...grpcRates.map((r) => ({
        name: `gRPC CreateTicketBatch, batch ${r.size}`,
        value: r.ticketsPerSecond,
        unit: 'tickets/s',
      })),
    ]);
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await anvil.stop();
    rmSync(dir, { recursive: true, force: true });
    await flushRedisPrefix(redisUrl, redisPrefix);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
