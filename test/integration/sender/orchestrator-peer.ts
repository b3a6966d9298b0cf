import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
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
 * An orchestrator's `net.Orchestrator` gRPC service as go-livepeer serves it (TLS, a certificate
 * no client can verify), answering what the test sets and keeping the requests it got.
 */
export interface OrchestratorPeer {
  port: number;
  requests: OrchestratorRequest[];
  answer: OrchestratorAnswer | undefined;
  close(): Promise<void>;
}

const raw = (bytes: Buffer): Buffer => bytes;

/** Starts the peer on `port` (0: a free one); with no answer set it refuses calls UNAVAILABLE. */
export async function startOrchestratorPeer(
  pki: TestPki,
  answer: OrchestratorAnswer | undefined,
  port = 0,
): Promise<OrchestratorPeer> {
  const server = new Server();
  const peer: OrchestratorPeer = {
    port: 0,
    requests: [],
    answer,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
  server.addService(
    {
      GetOrchestrator: {
        path: '/net.Orchestrator/GetOrchestrator',
        requestStream: false,
        responseStream: false,
        requestSerialize: raw,
        requestDeserialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
      },
    },
    {
      GetOrchestrator: (call: ServerUnaryCall<Buffer, Buffer>, reply: sendUnaryData<Buffer>) => {
        peer.requests.push(orchestratorRequestCodec.decode(call.request));
        const a = peer.answer;
        if (!a) return reply({ code: status.UNAVAILABLE, details: 'not serving' });
        // Field 33 rides beside the fields OrchestratorInfo's codec writes: protobuf merges both.
        const bytes = Buffer.concat([
          orchestratorInfoCodec.encode(a.info),
          orchestratorCapabilityPricesCodec.encode(a.capabilityPrices ?? []),
        ]);
        reply(null, bytes);
      },
    },
  );
  const creds = ServerCredentials.createSsl(
    null,
    [{ private_key: readFileSync(pki.serverKey), cert_chain: readFileSync(pki.serverCert) }],
    false,
  );
  peer.port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, creds, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  return peer;
}
