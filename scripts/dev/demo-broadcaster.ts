import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { hostPort, int, parseEnv, readErrorTrailers, str, uint } from '#app/common';
import { GRPC_LOADER_OPTIONS } from '#app/proto';
import { Rational } from '#app/ticket';
import { SENDER_GRPC, SENDER_PROTO_PATH } from '../../apps/sender/src/sender.grpc.js';
import { RecipientClient, RecipientCallError } from '#app/clients';

/**
 * The demo broadcaster of `npm start`, acting as broadcaster and orchestrator glue: every tick it
 * asks the Recipient for ticket params, has the Sender sign a batch against them and hands the
 * payment to the Recipient, as a gateway paying an orchestrator for a video segment would.
 *
 * It prints one `PROGRESS_MARKER {json}` line per tick for the dev stack's progress display, and
 * keeps its counters in a file so they continue across restarts.
 */
export const PROGRESS_MARKER = '@@demo-progress';

export interface DemoCounters {
  /** Tickets sent (signed by the Sender and handed to the Recipient). */
  sent: number;
  accepted: number;
  winners: number;
  /** EV credited by the Recipient, wei, as an exact `num/den`. */
  ev: string;
}

export function parseProgressLine(line: string): DemoCounters | undefined {
  if (!line.startsWith(`${PROGRESS_MARKER} `)) return undefined;
  try {
    return JSON.parse(line.slice(PROGRESS_MARKER.length + 1)) as DemoCounters;
  } catch {
    return undefined;
  }
}

export const DEMO_BROADCASTER_ENV = {
  DEMO_SENDER_GRPC_URL: { parse: hostPort, description: 'the Sender gRPC address' },
  DEMO_RECIPIENT_GRPC_URL: { parse: hostPort, description: 'the Recipient gRPC address' },
  DEMO_SENDER_API_TOKEN: { parse: str, secret: true, description: 'Sender API token of the demo' },
  DEMO_INTERVAL_MS: { parse: int(50, 60_000), default: 1_000, description: 'time between payments' },
  DEMO_BATCH_SIZE: { parse: int(1, 600), default: 2, description: 'tickets per payment' },
  DEMO_PRICE_PER_UNIT: { parse: uint, default: 1_000n, description: 'advertised price, wei per pixel' },
  DEMO_JOB_ID: { parse: str, default: 'demo-stream', description: 'job the payments are credited to' },
  DEMO_COUNTERS_FILE: { parse: str, optional: true, description: 'where the counters are kept' },
};

type Callback = (err: ServiceError | null, res?: unknown) => void;
type RawClient = Client & Record<string, (req: unknown, meta: Metadata, cb: Callback) => void>;

/** A minimal client of ticketpay.sender.v1.Sender with the broadcaster's bearer token. */
export class SenderApi {
  private readonly raw: RawClient;

  constructor(
    target: string,
    private readonly token: string,
  ) {
    const def = loadPackageDefinition(
      loadSync(SENDER_PROTO_PATH, { ...GRPC_LOADER_OPTIONS, includeDirs: SENDER_GRPC.includeDirs }),
    );
    const pkg = def.ticketpay as unknown as { sender: { v1: { Sender: ServiceClientConstructor } } };
    this.raw = new pkg.sender.v1.Sender(target, credentials.createInsecure()) as unknown as RawClient;
  }

  call<T>(method: string, req: unknown): Promise<T> {
    const meta = new Metadata();
    meta.set('authorization', `Bearer ${this.token}`);
    return new Promise((resolve, reject) =>
      this.raw[method](req, meta, (err, res) => (err ? reject(err) : resolve(res as T))),
    );
  }

  close(): void {
    this.raw.close();
  }
}

function loadCounters(file: string | undefined): DemoCounters {
  if (file && existsSync(file)) {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as DemoCounters;
      Rational.of(...(saved.ev.split('/').map(BigInt) as [bigint, bigint]));
      return saved;
    } catch {
      // A damaged counters file only resets the display.
    }
  }
  return { sent: 0, accepted: 0, winners: 0, ev: '0/1' };
}

function describe(err: unknown): string {
  if (err instanceof RecipientCallError) return `recipient: ${err.errorCode || err.status} ${err.message}`;
  const e = err as Partial<ServiceError>;
  if (e.metadata) {
    return `sender: ${readErrorTrailers(e.metadata).code ?? e.code} ${e.details ?? ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

async function main(): Promise<void> {
  const env = parseEnv(DEMO_BROADCASTER_ENV, process.env);
  const sender = new SenderApi(env.DEMO_SENDER_GRPC_URL, env.DEMO_SENDER_API_TOKEN);
  const recipient = new RecipientClient(env.DEMO_RECIPIENT_GRPC_URL);
  const counters = loadCounters(env.DEMO_COUNTERS_FILE);
  let ev = Rational.of(...(counters.ev.split('/').map(BigInt) as [bigint, bigint]));
  const price = { pricePerUnit: env.DEMO_PRICE_PER_UNIT.toString(), pixelsPerUnit: '1' };
  let stopped = false;
  let lastError = '';
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    wake?.();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  let account: Buffer | undefined;
  const resolveAccount = async (): Promise<Buffer> => {
    const accounts = await sender.call<{ senders: { address: Buffer }[] }>('Senders', {});
    const first = accounts.senders[0]?.address;
    if (!first) throw new Error('the Sender serves no account for the demo token');
    process.stdout.write(
      `paying from 0x${first.toString('hex')}: ${env.DEMO_BATCH_SIZE} tickets every ${env.DEMO_INTERVAL_MS} ms\n`,
    );
    return first;
  };

  while (!stopped) {
    const started = Date.now();
    try {
      account ??= await resolveAccount();
      const { ticketParams, priceInfo } = await recipient.getTicketParams({ sender: account, price });
      const session = await sender.call<{ sessionId: string }>('StartSession', {
        sender: account,
        ticketParams,
        expectedPrice: priceInfo,
      });
      const batch = await sender.call<{ payment: unknown }>('CreateTicketBatch', {
        sessionId: session.sessionId,
        size: env.DEMO_BATCH_SIZE,
      });
      // Fresh params every tick: the session is done once its batch is paid.
      await sender.call('EndSession', { sessionId: session.sessionId });
      const result = await recipient.processPayment({
        payment: batch.payment as never,
        jobId: env.DEMO_JOB_ID,
      });
      counters.sent += env.DEMO_BATCH_SIZE;
      counters.accepted += result.acceptedCount;
      counters.winners += result.winningCount;
      ev = ev.add(Rational.of(BigInt(result.credited.num ?? '0'), BigInt(result.credited.den || '1')));
      counters.ev = ev.toString();
      if (env.DEMO_COUNTERS_FILE) writeFileSync(env.DEMO_COUNTERS_FILE, JSON.stringify(counters));
      const refused = result.tickets.find((t) => !t.accepted);
      if (refused) process.stdout.write(`ticket refused: ${refused.errorCode} ${refused.errorMessage}\n`);
      lastError = '';
    } catch (err) {
      // Services still warming up answer with errors for a moment: say each new one once.
      const msg = describe(err);
      if (msg !== lastError && !stopped) process.stdout.write(`payment failed: ${msg}\n`);
      lastError = msg;
    }
    process.stdout.write(`${PROGRESS_MARKER} ${JSON.stringify(counters)}\n`);
    if (stopped) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, Math.max(0, env.DEMO_INTERVAL_MS - (Date.now() - started)));
    });
  }
  sender.close();
  recipient.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`demo broadcaster failed: ${describe(err)}\n`);
      process.exit(1);
    },
  );
}
