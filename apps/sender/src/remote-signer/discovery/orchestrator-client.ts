import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
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

/**
 * O's `GET /discovery` (its live runners) as text: a 2xx answer of at most `maxBytes`, within
 * `timeoutMs` for the whole reply; throws otherwise. The path is the service URL's plus
 * `/discovery`. Its certificate is not verified, as for GetOrchestrator: the same port serves both
 * with go-livepeer's self-signed certificate.
 */
export function getDiscovery(serviceUrl: URL, timeoutMs: number, maxBytes: number): Promise<string> {
  const url = new URL(serviceUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/discovery`;
  url.search = '';
  url.hash = '';
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<string>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        rejectUnauthorized: false,
        timeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          res.resume();
          reject(new Error(`GET /discovery answered HTTP ${status}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) req.destroy(new Error(`GET /discovery answered more than ${maxBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET /discovery did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
