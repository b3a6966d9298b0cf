import {
  Client,
  credentials,
  Metadata,
  status,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { PROTO_DIR } from '#app/proto';

/** What one unary call produced: the status, its details, the error trailers and the raw answer. */
export interface RawOutcome {
  code: number;
  details: string;
  errorCode?: string;
  errorDomain?: string;
  response?: Buffer;
}

const first = (md: Metadata | undefined, key: string): string | undefined => {
  const v = md?.get(key)[0];
  return v === undefined ? undefined : v.toString();
};

/** A failed call's outcome: its status, details and error trailers. */
const failed = (err: ServiceError): RawOutcome => ({
  code: err.code,
  details: err.details,
  errorCode: first(err.metadata, 'error-code'),
  errorDomain: first(err.metadata, 'error-domain'),
});

/**
 * A gRPC client that sends bytes as they are (identity serializers): malformed protobuf reaches
 * the server's decoder exactly as an attacker would send it.
 */
export class RawGrpc {
  private readonly client: Client;

  constructor(target: string, creds: ChannelCredentials = credentials.createInsecure()) {
    this.client = new Client(target, creds, { 'grpc.max_send_message_length': -1 });
  }

  call(path: string, body: Uint8Array, metadata = new Metadata(), timeoutMs = 10_000): Promise<RawOutcome> {
    return new Promise((resolve) => {
      let response: Buffer | undefined;
      const call = this.client.makeUnaryRequest<Buffer, Buffer>(
        path,
        (b) => b,
        (b) => b,
        Buffer.from(body),
        metadata,
        { deadline: Date.now() + timeoutMs },
        (err: ServiceError | null, res?: Buffer) => {
          if (err) {
            resolve(failed(err));
          } else {
            response = res;
          }
        },
      );
      call.on('status', (s) => {
        if (s.code === status.OK) resolve({ code: s.code, details: s.details, response });
      });
    });
  }

  /**
   * A server-streaming call, judged by how it starts: its first message (OK, `response`) or the
   * status it ends with before sending one. The stream is cancelled once that is known.
   */
  firstOfStream(
    path: string,
    body: Uint8Array,
    metadata = new Metadata(),
    timeoutMs = 10_000,
  ): Promise<RawOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (out: RawOutcome) => {
        if (settled) return;
        settled = true;
        resolve(out);
        call.cancel();
      };
      const call = this.client.makeServerStreamRequest<Buffer, Buffer>(
        path,
        (b) => b,
        (b) => b,
        Buffer.from(body),
        metadata,
        { deadline: Date.now() + timeoutMs },
      );
      call.on('data', (res: Buffer) => settle({ code: status.OK, details: '', response: res }));
      call.on('error', (err: ServiceError) => settle(failed(err)));
      // A stream that ends cleanly without a message answered nothing: report it as such.
      call.on('status', (s) =>
        settle({ code: s.code, details: s.details || 'stream ended without a message' }),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

let rootCache: protobuf.Root | undefined;

/** The project's protos as protobufjs types, to encode structured (but hostile) requests. */
export function protoRoot(): protobuf.Root {
  if (!rootCache) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : `${PROTO_DIR}/${target}`);
    root.loadSync([
      'net/lp_rpc.proto',
      'net/redeemer.proto',
      'ticketpay/sender/v1/sender.proto',
      'ticketpay/recipient/v1/recipient.proto',
      'ticketpay/sendermonitor/v1/sender_monitor.proto',
    ]);
    rootCache = root;
  }
  return rootCache;
}

/** Encodes `value` as `typeName`, bypassing verification (fields may hold any bytes/number). */
export function encode(typeName: string, value: Record<string, unknown>): Uint8Array {
  const type = protoRoot().lookupType(typeName);
  return type.encode(type.fromObject(value)).finish();
}

export function decode(typeName: string, bytes: Uint8Array): Record<string, unknown> {
  const type = protoRoot().lookupType(typeName);
  return type.toObject(type.decode(bytes), { longs: String, bytes: Buffer, defaults: true });
}
