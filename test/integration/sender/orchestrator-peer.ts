import { readFileSync } from 'node:fs';
import {
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import type { Socket } from 'node:net';
import {
  orchestratorCapabilityPricesCodec,
  orchestratorInfoCodec,
  orchestratorRequestCodec,
  type OrchestratorInfo,
  type OrchestratorRequest,
} from '#app/proto';
import type { PriceInfo } from '#app/ticket';
import type { TestPki } from '../tls/certs.js';

/** What an orchestrator answers GetOrchestrator with: its info and per-capability prices. */
export interface OrchestratorAnswer {
  info: OrchestratorInfo;
  capabilityPrices?: PriceInfo[];
}

/**
 * An orchestrator's port as go-livepeer serves it (TLS, a certificate no client can verify): the
 * `net.Orchestrator` gRPC service over HTTP/2, answering what the test sets and keeping the
 * requests it got, and, on the same port, its HTTP `GET /discovery` (live runners) answering
 * `discovery` as set (404 while undefined).
 */
export interface OrchestratorPeer {
  port: number;
  requests: OrchestratorRequest[];
  answer: OrchestratorAnswer | undefined;
  discovery: { status?: number; body: string } | undefined;
  /** How many times `GET /discovery` was asked. */
  discoveryAsks: number;
  close(): Promise<void>;
}

const GET_ORCHESTRATOR = '/net.Orchestrator/GetOrchestrator';

/** A gRPC message frame: uncompressed, its length, its bytes. */
function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** Starts the peer on `port` (0: a free one); with no answer set it refuses calls UNAVAILABLE. */
export async function startOrchestratorPeer(
  pki: TestPki,
  answer: OrchestratorAnswer | undefined,
  port = 0,
): Promise<OrchestratorPeer> {
  const sessions = new Set<Http2Session>();
  const sockets = new Set<Socket>();
  const server = createSecureServer({
    key: readFileSync(pki.serverKey),
    cert: readFileSync(pki.serverCert),
    allowHTTP1: true,
  });
  const peer: OrchestratorPeer = {
    port: 0,
    requests: [],
    answer,
    discovery: undefined,
    discoveryAsks: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('session', (s: Http2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/discovery') {
        peer.discoveryAsks++;
        const d = peer.discovery;
        res.writeHead(d?.status ?? (d ? 200 : 404), { 'content-type': 'application/json' });
        res.end(d?.body ?? '404 page not found');
        return;
      }
      if (req.method !== 'POST' || req.url !== GET_ORCHESTRATOR) {
        res.writeHead(404);
        res.end();
        return;
      }
      const body = Buffer.concat(chunks);
      peer.requests.push(orchestratorRequestCodec.decode(body.subarray(5, 5 + body.readUInt32BE(1))));
      const a = peer.answer;
      if (!a) {
        // Trailers-only: the call fails UNAVAILABLE.
        res.writeHead(200, {
          'content-type': 'application/grpc',
          'grpc-status': '14',
          'grpc-message': 'not serving',
        });
        res.end();
        return;
      }
      // Field 33 rides beside the fields OrchestratorInfo's codec writes: protobuf merges both.
      const bytes = Buffer.concat([
        orchestratorInfoCodec.encode(a.info),
        orchestratorCapabilityPricesCodec.encode(a.capabilityPrices ?? []),
      ]);
      res.writeHead(200, { 'content-type': 'application/grpc' });
      res.addTrailers({ 'grpc-status': '0' });
      res.end(grpcFrame(bytes));
    });
  });
  peer.port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  return peer;
}
