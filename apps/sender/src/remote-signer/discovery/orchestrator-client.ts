import { Client, credentials, Metadata } from '@grpc/grpc-js';

const GET_ORCHESTRATOR = '/net.Orchestrator/GetOrchestrator';
/** An OrchestratorInfo is a few KiB; a reply past this is not one. */
const MAX_REPLY_BYTES = 1 << 20;

/**
 * Orchestrators serve gRPC over TLS with self-signed certificates, and go-livepeer's gateways do
 * not verify them: an orchestrator is known by the recipient address it answers with (the one its
 * tickets pay), not by a certificate. Discovery reads it the same way.
 */
const UNVERIFIED_TLS = credentials.createSsl(null, null, null, {
  rejectUnauthorized: false,
  checkServerIdentity: () => undefined,
});

const raw = (bytes: Buffer): Buffer => bytes;

/**
 * O's GetOrchestrator (`net.Orchestrator`), the request and reply kept as protobuf bytes: the
 * reply is read with the project's codecs, including fields the gRPC loader's view would drop.
 * One connection per call: discovery asks each orchestrator once per refresh.
 */
export function getOrchestrator(url: URL, request: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  const client = new Client(url.host, UNVERIFIED_TLS, {
    'grpc.max_receive_message_length': MAX_REPLY_BYTES,
  });
  return new Promise<Uint8Array>((resolve, reject) => {
    client.makeUnaryRequest(
      GET_ORCHESTRATOR,
      raw,
      raw,
      Buffer.from(request),
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err, reply) => (err || !reply ? reject(err ?? new Error('no reply')) : resolve(reply)),
    );
  }).finally(() => client.close());
}
