import {
  credentials as grpcCredentials,
  loadPackageDefinition,
  Metadata,
  status,
  type ChannelCredentials,
  type Client,
  type ClientReadableStream,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Observable } from 'rxjs';
import { readErrorTrailers, type AppError } from '#app/common';
import { GRPC_LOADER_OPTIONS, PROTO_DIR } from '#app/proto';
import { SenderMonitor, TicketError, TicketErrorCode } from '#app/ticket';
import { SenderMonitorError, SenderMonitorErrorCode } from './sender-monitor.error.js';
import {
  addressField,
  parseAmount,
  type MaxFloatChangeMessage,
  type MaxFloatRequestMessage,
  type MaxFloatResponseMessage,
  type SenderInfoRequestMessage,
  type SenderInfoResponseMessage,
  type ValidateSenderRequestMessage,
  type ValidityMessage,
  type WatchMaxFloatRequestMessage,
} from './sender-monitor.messages.js';
import { SENDER_MONITOR_PROTO_PATH } from './sender-monitor.proto-paths.js';
import type { MaxFloatChange, MonitoredSender, SenderValidity } from './sender-monitor.types.js';

export interface RemoteSenderMonitorOptions {
  /** `host:port` of the sender-monitor gRPC server. */
  target: string;
  /** Default: plaintext. Services pass `grpcClientCredentials(env)`: TLS/mTLS from GRPC_TLS_SERVER_CA_FILE etc. */
  credentials?: ChannelCredentials;
  /** Deadline of unary calls. Default 8 s (go-livepeer `GRPCTimeout`). */
  callTimeoutMs?: number;
  /** Cached max floats (and their streams) unused this long are dropped. Default 5 min, as go-livepeer. */
  idleTtlMs?: number;
}

type Callback<T> = (err: ServiceError | null, res?: T) => void;
interface CallOptions {
  deadline: number;
}
type SenderMonitorGrpcClient = Client & {
  MaxFloat(
    req: MaxFloatRequestMessage,
    meta: Metadata,
    opts: CallOptions,
    cb: Callback<MaxFloatResponseMessage>,
  ): void;
  ValidateSender(
    req: ValidateSenderRequestMessage,
    meta: Metadata,
    opts: CallOptions,
    cb: Callback<ValidityMessage>,
  ): void;
  SenderInfo(
    req: SenderInfoRequestMessage,
    meta: Metadata,
    opts: CallOptions,
    cb: Callback<SenderInfoResponseMessage>,
  ): void;
  WatchMaxFloat(req: WatchMaxFloatRequestMessage): ClientReadableStream<MaxFloatChangeMessage>;
};

interface Entry {
  maxFloat?: bigint;
  validity?: SenderValidity;
  lastAccess: number;
  stream: ClientReadableStream<MaxFloatChangeMessage>;
}

let clientConstructor: ServiceClientConstructor | undefined;

function loadClientConstructor(): ServiceClientConstructor {
  if (clientConstructor) return clientConstructor;
  const definition = loadSync(SENDER_MONITOR_PROTO_PATH, {
    ...GRPC_LOADER_OPTIONS,
    includeDirs: [PROTO_DIR],
  });
  const pkg = loadPackageDefinition(definition) as unknown as {
    ticketpay: { sendermonitor: { v1: { SenderMonitor: ServiceClientConstructor } } };
  };
  clientConstructor = pkg.ticketpay.sendermonitor.v1.SenderMonitor;
  return clientConstructor;
}

/**
 * The SenderMonitor port over gRPC, for the Recipient: go-livepeer's RedeemerClient behaviour
 * (PROTOCOL.md §9.3) on ticketpay's own API. A max float is fetched once, then kept current by a
 * WatchMaxFloat stream; the first MaxFloat after a stream failure fetches it again. Sender
 * validity rides on the same stream, so a sender with an open stream is validated without a call.
 */
export class RemoteSenderMonitor extends SenderMonitor {
  private readonly client: SenderMonitorGrpcClient;
  private readonly entries = new Map<string, Entry>();
  private readonly callTimeoutMs: number;
  private readonly idleTtlMs: number;
  /** How the channel is secured, named in connection failures (a TLS mismatch fails there). */
  private readonly transport: 'TLS' | 'plaintext';
  private readonly cleanup: NodeJS.Timeout;
  private closed = false;

  constructor(options: RemoteSenderMonitorOptions) {
    super();
    const Ctor = loadClientConstructor();
    const credentials = options.credentials ?? grpcCredentials.createInsecure();
    this.client = new Ctor(options.target, credentials) as unknown as SenderMonitorGrpcClient;
    this.transport = credentials._isSecure() ? 'TLS' : 'plaintext';
    this.callTimeoutMs = options.callTimeoutMs ?? 8_000;
    this.idleTtlMs = options.idleTtlMs ?? 5 * 60_000;
    this.cleanup = setInterval(() => this.dropIdle(), Math.max(1_000, Math.floor(this.idleTtlMs / 5)));
    this.cleanup.unref();
  }

  async maxFloat(sender: string, recipient: string): Promise<bigint> {
    const s = addressField(sender, 'sender');
    const r = addressField(recipient, 'recipient');
    const entry = this.entries.get(key(s, r));
    if (entry?.maxFloat !== undefined) {
      entry.lastAccess = Date.now();
      return entry.maxFloat;
    }
    const res = await this.unary<MaxFloatResponseMessage>((cb, opts) =>
      this.client.MaxFloat({ sender: s, recipient: r }, new Metadata(), opts, cb),
    );
    const value = parseAmount(res.maxFloat, 'max_float', true);
    this.follow(s, r);
    return value;
  }

  async validateSender(sender: string): Promise<void> {
    const s = addressField(sender, 'sender');
    const validity = this.cachedValidity(s) ?? (await this.fetchValidity(s));
    if (!validity.valid) throw validityError(validity);
  }

  /** The monitor's whole view of a sender (not cached). */
  async senderInfo(sender: string): Promise<MonitoredSender> {
    const s = addressField(sender, 'sender');
    const res = await this.unary<SenderInfoResponseMessage>((cb, opts) =>
      this.client.SenderInfo({ sender: s }, new Metadata(), opts, cb),
    );
    return parseSenderInfo(res);
  }

  /** Every change of a sender's max float for a recipient (first the current value), as pushed by the service. */
  changes(sender: string, recipient: string): Observable<MaxFloatChange> {
    return new Observable<MaxFloatChange>((subscriber) => {
      const stream = this.client.WatchMaxFloat({
        sender: addressField(sender, 'sender'),
        recipient: addressField(recipient, 'recipient'),
      });
      let cancelled = false;
      stream.on('data', (m: MaxFloatChangeMessage) => {
        try {
          subscriber.next(parseChange(m));
        } catch (err) {
          subscriber.error(err);
        }
      });
      stream.on('error', (err: ServiceError) => {
        if (!cancelled) subscriber.error(this.failure(err));
      });
      stream.on('end', () => subscriber.complete());
      return () => {
        cancelled = true;
        stream.cancel();
      };
    });
  }

  /** Cancels every stream and closes the channel. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.cleanup);
    for (const entry of this.entries.values()) entry.stream.cancel();
    this.entries.clear();
    this.client.close();
  }

  /** Nest lifecycle hook, for when the client is registered as a provider. */
  onApplicationShutdown(): void {
    this.close();
  }

  /** Opens the stream that keeps (sender, recipient) current, unless one is open. */
  private follow(sender: string, recipient: string): void {
    const k = key(sender, recipient);
    if (this.closed || this.entries.has(k)) return;
    const stream = this.client.WatchMaxFloat({ sender, recipient });
    const entry: Entry = { lastAccess: Date.now(), stream };
    this.entries.set(k, entry);
    const drop = () => {
      if (this.entries.get(k) === entry) this.entries.delete(k);
    };
    stream.on('data', (m: MaxFloatChangeMessage) => {
      try {
        const change = parseChange(m);
        entry.maxFloat = change.maxFloat;
        entry.validity = change.validity;
      } catch {
        // An unreadable update must not leave a stale value cached.
        drop();
        stream.cancel();
      }
    });
    // A failed stream drops the cached value: the next call asks the service again.
    stream.on('error', drop);
    stream.on('end', drop);
  }

  private cachedValidity(sender: string): SenderValidity | undefined {
    for (const [k, entry] of this.entries) {
      if (entry.validity && k.startsWith(`${sender}|`)) {
        entry.lastAccess = Date.now();
        return entry.validity;
      }
    }
    return undefined;
  }

  private async fetchValidity(sender: string): Promise<SenderValidity> {
    const res = await this.unary<ValidityMessage>((cb, opts) =>
      this.client.ValidateSender({ sender }, new Metadata(), opts, cb),
    );
    return parseValidity(res);
  }

  private dropIdle(): void {
    const cutoff = Date.now() - this.idleTtlMs;
    for (const [k, entry] of this.entries) {
      if (entry.lastAccess < cutoff) {
        this.entries.delete(k);
        entry.stream.cancel();
      }
    }
  }

  /**
   * The coded error of a failed call. A call that never reached the service (refused, TLS
   * handshake failed: wrong CA, missing client certificate, TLS against plaintext) says so and
   * names the transport, the first thing to check against the server's settings.
   */
  private failure(err: ServiceError): AppError {
    const coded = fromGrpcError(err);
    const fromService = readErrorTrailers(err.metadata).code !== undefined;
    if (err.code !== status.UNAVAILABLE || fromService) return coded;
    const why = coded.message.replace(/\s*Resolution note:\s*$/, '');
    return new SenderMonitorError(
      SenderMonitorErrorCode.UNAVAILABLE,
      `SenderMonitor unreachable over ${this.transport}: ${why}`,
      { cause: err },
    );
  }

  private unary<T>(call: (cb: Callback<T>, opts: CallOptions) => void): Promise<T> {
    if (this.closed) {
      return Promise.reject(new SenderMonitorError(SenderMonitorErrorCode.UNAVAILABLE, 'client is closed'));
    }
    return new Promise<T>((resolve, reject) => {
      call(
        (err, res) => {
          if (err) reject(this.failure(err));
          else if (res === undefined)
            reject(new SenderMonitorError(SenderMonitorErrorCode.BAD_RESPONSE, 'empty response'));
          else resolve(res);
        },
        { deadline: Date.now() + this.callTimeoutMs },
      );
    });
  }
}

const key = (sender: string, recipient: string) => `${sender}|${recipient}`;

const TICKET_CODES = new Set<string>(Object.values(TicketErrorCode));
const MONITOR_CODES = new Set<string>(Object.values(SenderMonitorErrorCode));

function validityError(v: SenderValidity): AppError {
  const message = v.errorMessage || 'sender is not valid';
  if (v.errorCode && TICKET_CODES.has(v.errorCode))
    return new TicketError(v.errorCode as TicketErrorCode, message);
  return new SenderMonitorError(SenderMonitorErrorCode.BAD_RESPONSE, `sender not valid: ${message}`);
}

/** The typed error a gRPC failure stands for, from the trailers the service sets, else from its status. */
export function fromGrpcError(err: ServiceError): AppError {
  const { code, domain } = readErrorTrailers(err.metadata);
  const message = err.details || err.message;
  if (domain === 'ticket' && code && TICKET_CODES.has(code)) {
    return new TicketError(code as TicketErrorCode, message, { cause: err });
  }
  if (domain === 'sender-monitor' && code && MONITOR_CODES.has(code)) {
    return new SenderMonitorError(code as SenderMonitorErrorCode, message, { cause: err });
  }
  switch (err.code) {
    case status.INVALID_ARGUMENT:
      return new SenderMonitorError(SenderMonitorErrorCode.INVALID_ARGUMENT, message, { cause: err });
    case status.PERMISSION_DENIED:
      return new SenderMonitorError(SenderMonitorErrorCode.UNKNOWN_RECIPIENT, message, { cause: err });
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return new SenderMonitorError(SenderMonitorErrorCode.UNAVAILABLE, message, { cause: err });
    case status.CANCELLED:
      return new SenderMonitorError(SenderMonitorErrorCode.SUBSCRIPTION_CLOSED, message, { cause: err });
    default:
      return new SenderMonitorError(SenderMonitorErrorCode.INTERNAL, message, { cause: err });
  }
}

function parseValidity(m: ValidityMessage | null | undefined): SenderValidity {
  if (!m) throw new SenderMonitorError(SenderMonitorErrorCode.BAD_RESPONSE, 'validity is missing');
  return m.valid ? { valid: true } : { valid: false, errorCode: m.errorCode, errorMessage: m.errorMessage };
}

function parseUint(value: string | number, field: string): bigint {
  return parseAmount(String(value), field);
}

function parseChange(m: MaxFloatChangeMessage): MaxFloatChange {
  return {
    sender: m.sender,
    recipient: m.recipient,
    maxFloat: parseAmount(m.maxFloat, 'max_float', true),
    validity: parseValidity(m.validity),
    reason: m.reason,
    block: parseUint(m.block, 'block'),
  };
}

function parseSenderInfo(m: SenderInfoResponseMessage): MonitoredSender {
  return {
    sender: m.sender,
    info: {
      deposit: parseAmount(m.deposit, 'deposit'),
      withdrawRound: parseAmount(m.withdrawRound, 'withdraw_round'),
      reserve: {
        fundsRemaining: parseAmount(m.reserve?.fundsRemaining, 'funds_remaining'),
        claimedInCurrentRound: parseAmount(m.reserve?.claimedInCurrentRound, 'claimed_in_current_round'),
      },
    },
    pendingTotal: parseAmount(m.pendingTotal, 'pending_total'),
    recipients: m.recipients.map((r) => ({
      recipient: r.recipient,
      recipientActive: r.recipientActive,
      claimedReserve: parseAmount(r.claimedReserve, 'claimed_reserve'),
      reserveAllocation: parseAmount(r.reserveAllocation, 'reserve_allocation'),
      pending: parseAmount(r.pending, 'pending'),
      maxFloat: parseAmount(r.maxFloat, 'max_float', true),
    })),
    validity: parseValidity(m.validity),
    poolSize: parseUint(m.poolSize, 'pool_size'),
    currentRound: parseUint(m.currentRound, 'current_round'),
    lastInitializedRound: parseUint(m.lastInitializedRound, 'last_initialized_round'),
    block: parseUint(m.block, 'block'),
  };
}
