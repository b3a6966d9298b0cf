import { isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import { LP_RPC_PROTO, PROTO_DIR, type PriceInfoMessage, type TicketParamsMessage } from '#app/proto';

/*
 * The go-livepeer messages a live gateway exchanges with a remote signer and an orchestrator,
 * beyond the payment messages libs/proto already has: net.OrchestratorInfo, net.AuthToken and
 * net.SegData, with go-livepeer's field numbers (net/lp_rpc.proto). They live in a package of
 * their own so this client shares no definitions with the Sender's remote-signer code.
 */
const GATEWAY_PROTO = `
syntax = "proto3";
package gatewaywire;
import "net/lp_rpc.proto";

message AuthToken {
  bytes token = 1;
  string session_id = 2;
  int64 expiration = 3;
}

message OrchestratorInfo {
  string transcoder = 1;
  net.TicketParams ticket_params = 2;
  net.PriceInfo price_info = 3;
  bytes address = 4;
  AuthToken auth_token = 6;
}

message SegData {
  bytes manifestId = 1;
  int64 seq = 2;
  bytes hash = 3;
  bytes profiles = 4;
  bytes sig = 5;
  int32 duration = 6;
  AuthToken auth_token = 8;
}
`;

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(PROTO_DIR, target));
root.loadSync(LP_RPC_PROTO);
protobuf.parse(GATEWAY_PROTO, root, { keepCase: false });
root.resolveAll();

const OrchestratorInfoType = root.lookupType('gatewaywire.OrchestratorInfo');
const SegDataType = root.lookupType('gatewaywire.SegData');

export interface AuthToken {
  token: Uint8Array;
  sessionId: string;
  /** Unix seconds. */
  expiration: bigint;
}

export interface OrchestratorInfo {
  transcoder: string;
  ticketParams: TicketParamsMessage;
  priceInfo: PriceInfoMessage;
  address: Uint8Array;
  authToken: AuthToken;
}

export interface SegData {
  manifestId: Uint8Array;
  seq: bigint;
  hash: Uint8Array;
  profiles: Uint8Array;
  sig: Uint8Array;
  authToken?: AuthToken;
}

/** Protobuf bytes of net.OrchestratorInfo, what a gateway posts as `orchestrator`. */
export function encodeOrchestratorInfo(info: OrchestratorInfo): Uint8Array {
  const message = OrchestratorInfoType.fromObject({
    transcoder: info.transcoder,
    ticketParams: info.ticketParams,
    priceInfo: info.priceInfo,
    address: info.address,
    authToken: { ...info.authToken, expiration: info.authToken.expiration.toString() },
  });
  return OrchestratorInfoType.encode(message).finish();
}

/** net.SegData from the `Livepeer-Segment` header value (standard base64). */
export function decodeSegData(base64: string): SegData {
  const raw = SegDataType.toObject(SegDataType.decode(Buffer.from(base64, 'base64')), {
    longs: String,
    bytes: Array,
    defaults: true,
  }) as {
    manifestId: number[];
    seq: string;
    hash: number[];
    profiles: number[];
    sig: number[];
    authToken?: { token: number[]; sessionId: string; expiration: string };
  };
  return {
    manifestId: Uint8Array.from(raw.manifestId),
    seq: BigInt(raw.seq),
    hash: Uint8Array.from(raw.hash),
    profiles: Uint8Array.from(raw.profiles),
    sig: Uint8Array.from(raw.sig),
    authToken: raw.authToken && {
      token: Uint8Array.from(raw.authToken.token),
      sessionId: raw.authToken.sessionId,
      expiration: BigInt(raw.authToken.expiration),
    },
  };
}

/**
 * The bytes go-livepeer's broadcaster signs for a segment (SegTranscodingMetadata.Flatten):
 * manifest id ‖ seq as a 32-byte big-endian word ‖ segment hash ‖ hex of the profiles, which a
 * live payment has none of. The signature is the EIP-191 personal sign of keccak256 of these bytes.
 */
export function flattenLiveSegData(seg: SegData): Uint8Array {
  if (seg.profiles.length > 0) throw new Error('segCreds of a live payment carry no transcoding profiles');
  const seq = new Uint8Array(32);
  let v = seg.seq;
  for (let i = 31; i >= 0 && v > 0n; i--, v >>= 8n) seq[i] = Number(v & 0xffn);
  return Buffer.concat([seg.manifestId, seq, seg.hash]);
}
