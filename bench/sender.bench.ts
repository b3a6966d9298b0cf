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
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { GRPC_LOADER_OPTIONS, PROTO_DIR, priceInfoCodec, ticketParamsCodec } from '#app/proto';
import {
  Rational,
  createTicketBatch,
  hexToBytes,
  nativeBackend,
  winProbForEV,
  type PriceInfo,
} from '#app/ticket';
import { SENDER_PROTO_PATH } from '../apps/sender/src/sender.grpc.js';
import { printBenchJson } from './bench-json.js';
import { rate, startBenchSender, syncRate } from './sender-process.js';

const RUN_MS = 3_000;
const WARMUP_MS = 500;
const IN_FLIGHT = 8;
const BATCH_SIZES = [1, 10, 100];
const TOKEN = 'bench-token-0123456789abcdef';
const PRICE: PriceInfo = { pricePerUnit: 100n, pixelsPerUnit: 1n, capability: 0, constraint: '' };

type Callback = (err: Error | null, res?: unknown) => void;
type RawClient = Client & Record<string, (req: unknown, meta: Metadata, cb: Callback) => void>;

function grpcClient(target: string): {
  call: <T>(method: string, req: unknown) => Promise<T>;
  close(): void;
} {
  const def = loadPackageDefinition(
    loadSync(SENDER_PROTO_PATH, { ...GRPC_LOADER_OPTIONS, includeDirs: [PROTO_DIR] }),
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

async function main(): Promise<void> {
  const backend = nativeBackend();
  if (!backend) throw new Error('the native secp256k1 backend is not available here');
  const bench = await startBenchSender('sender', TOKEN, {
    SENDER_NONCE_CAP: '4000000000',
    SENDER_NONCE_REFRESH_AT: '4000000000',
    SENDER_MAX_BATCH_SIZE: String(Math.max(...BATCH_SIZES)),
  });
  try {
    const { sender, senderBytes, grpcUrl } = bench;
    const faceValue = 1_000_000_000_000_000n;
    const winProb = winProbForEV(1_000_000_000n, faceValue);
    /** Fresh params (a new commitment) per measurement, as an orchestrator would give them. */
    const freshParams = () => bench.freshParams(PRICE, faceValue, winProb);

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
    await bench.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
