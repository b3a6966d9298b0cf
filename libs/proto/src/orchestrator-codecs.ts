import type { PriceInfo, TicketParams } from '#app/ticket';
import { messageCodec } from './codec.js';
import { invalidField, readBytes, readInt64, writeInt64, type WireBytes, type WireInt64 } from './fields.js';
import {
  priceInfoFromMessage,
  priceInfoToMessage,
  ticketParamsFromMessage,
  ticketParamsToMessage,
  type PriceInfoMessage,
  type TicketParamsMessage,
} from './lp-rpc-codecs.js';
import { protoTypes } from './proto-root.js';

/** O's session token (`net.AuthToken`). */
export interface AuthToken {
  token: Uint8Array;
  sessionId: string;
  /** Unix seconds. */
  expiration: bigint;
}

/** The parts of `net.OrchestratorInfo` a remote signer uses; `capabilities` stays encoded. */
export interface OrchestratorInfo {
  transcoder: string;
  ticketParams?: TicketParams;
  priceInfo?: PriceInfo;
  /** As sent (go-livepeer reads it with `BytesToAddress`: last 20 bytes, left-padded). */
  address: Uint8Array;
  capabilities: Uint8Array;
  authToken?: AuthToken;
}

/** Segment credentials (`net.SegData`) as a remote signer fills them for a live payment. */
export interface SegData {
  manifestId: Uint8Array;
  seq: bigint;
  hash: Uint8Array;
  sig: Uint8Array;
  capabilities: Uint8Array;
  authToken?: AuthToken;
}

interface AuthTokenMessage {
  token?: WireBytes;
  sessionId?: string;
  expiration?: WireInt64;
}

interface OrchestratorInfoMessage {
  transcoder?: string;
  ticketParams?: TicketParamsMessage | null;
  priceInfo?: PriceInfoMessage | null;
  address?: WireBytes;
  capabilities?: WireBytes;
  authToken?: AuthTokenMessage | null;
}

interface SegDataMessage {
  manifestId?: WireBytes;
  seq?: WireInt64;
  hash?: WireBytes;
  sig?: WireBytes;
  capabilities?: WireBytes;
  authToken?: AuthTokenMessage | null;
}

const nonEmpty = (b: Uint8Array): Uint8Array | undefined => (b.length > 0 ? b : undefined);

function authTokenToMessage(value: AuthToken): AuthTokenMessage {
  return {
    token: nonEmpty(value.token),
    sessionId: value.sessionId === '' ? undefined : value.sessionId,
    expiration: writeInt64(value.expiration, 'expiration'),
  };
}

function authTokenFromMessage(message: AuthTokenMessage): AuthToken {
  return {
    token: readBytes(message.token),
    sessionId: message.sessionId ?? '',
    expiration: readInt64(message.expiration),
  };
}

function orchestratorInfoToMessage(value: OrchestratorInfo): OrchestratorInfoMessage {
  return {
    transcoder: value.transcoder === '' ? undefined : value.transcoder,
    ticketParams: value.ticketParams && ticketParamsToMessage(value.ticketParams),
    priceInfo: value.priceInfo && priceInfoToMessage(value.priceInfo),
    address: nonEmpty(value.address),
    capabilities: nonEmpty(value.capabilities),
    authToken: value.authToken && authTokenToMessage(value.authToken),
  };
}

function orchestratorInfoFromMessage(message: OrchestratorInfoMessage): OrchestratorInfo {
  const info: OrchestratorInfo = {
    transcoder: message.transcoder ?? '',
    address: readBytes(message.address),
    capabilities: readBytes(message.capabilities),
  };
  if (message.ticketParams) info.ticketParams = ticketParamsFromMessage(message.ticketParams);
  if (message.priceInfo) info.priceInfo = priceInfoFromMessage(message.priceInfo);
  if (message.authToken) info.authToken = authTokenFromMessage(message.authToken);
  return info;
}

function segDataToMessage(value: SegData): SegDataMessage {
  if (value.seq < 0n) throw invalidField('seq must not be negative');
  return {
    manifestId: nonEmpty(value.manifestId),
    seq: writeInt64(value.seq, 'seq'),
    hash: nonEmpty(value.hash),
    sig: nonEmpty(value.sig),
    capabilities: nonEmpty(value.capabilities),
    authToken: value.authToken && authTokenToMessage(value.authToken),
  };
}

function segDataFromMessage(message: SegDataMessage): SegData {
  const seg: SegData = {
    manifestId: readBytes(message.manifestId),
    seq: readInt64(message.seq),
    hash: readBytes(message.hash),
    sig: readBytes(message.sig),
    capabilities: readBytes(message.capabilities),
  };
  if (message.authToken) seg.authToken = authTokenFromMessage(message.authToken);
  return seg;
}

export const orchestratorInfoCodec = messageCodec(
  protoTypes.OrchestratorInfo,
  orchestratorInfoToMessage,
  orchestratorInfoFromMessage,
);
export const segDataCodec = messageCodec(protoTypes.SegData, segDataToMessage, segDataFromMessage);

/** B's `net.OrchestratorRequest` to O's GetOrchestrator. */
export interface OrchestratorRequest {
  address: Uint8Array;
  sig: Uint8Array;
  /** An encoded `net.Capabilities` (empty: ask for none). */
  capabilities: Uint8Array;
  ignoreCapacityCheck: boolean;
}

interface OrchestratorRequestMessage {
  address?: WireBytes;
  sig?: WireBytes;
  capabilities?: WireBytes;
  ignoreCapacityCheck?: boolean;
}

export const orchestratorRequestCodec = messageCodec(
  protoTypes.OrchestratorRequest,
  (value: OrchestratorRequest): OrchestratorRequestMessage => ({
    address: nonEmpty(value.address),
    sig: nonEmpty(value.sig),
    capabilities: nonEmpty(value.capabilities),
    ignoreCapacityCheck: value.ignoreCapacityCheck || undefined,
  }),
  (message: OrchestratorRequestMessage): OrchestratorRequest => ({
    address: readBytes(message.address),
    sig: readBytes(message.sig),
    capabilities: readBytes(message.capabilities),
    ignoreCapacityCheck: message.ignoreCapacityCheck === true,
  }),
);

interface OrchestratorCapabilityPricesMessage {
  capabilitiesPrices?: PriceInfoMessage[];
}

/**
 * `OrchestratorInfo.capabilities_prices` (field 33) from the same bytes `orchestratorInfoCodec`
 * reads; entries are taken as sent (zero parts included), callers pick the one they need.
 */
export const orchestratorCapabilityPricesCodec = messageCodec(
  protoTypes.OrchestratorCapabilityPrices,
  (prices: readonly PriceInfo[]): OrchestratorCapabilityPricesMessage => ({
    capabilitiesPrices: prices.map(priceInfoToMessage),
  }),
  (message: OrchestratorCapabilityPricesMessage): PriceInfo[] =>
    (message.capabilitiesPrices ?? []).map(priceInfoFromMessage),
);

/** The models a `net.Capabilities` names for one capability (its per-capability constraints). */
export interface CapabilityModelNames {
  capability: number;
  models: string[];
}

interface CapabilityModelsMessage {
  constraints?: { PerCapability?: Record<string, { models?: Record<string, Uint8Array> }> };
}

/**
 * Which models of which capabilities a `net.Capabilities` names (Constraints.PerCapability), in
 * ascending capability order, models sorted: what go-livepeer looks up per-capability maximum
 * prices by. Read only; the rest of the message is skipped.
 */
export const capabilityModelsCodec = messageCodec(
  protoTypes.CapabilityModels,
  (named: readonly CapabilityModelNames[]): CapabilityModelsMessage => ({
    constraints: {
      PerCapability: Object.fromEntries(
        named.map((n) => [
          String(n.capability),
          { models: Object.fromEntries(n.models.map((m) => [m, new Uint8Array(0)])) },
        ]),
      ),
    },
  }),
  (message: CapabilityModelsMessage): CapabilityModelNames[] =>
    Object.entries(message.constraints?.PerCapability ?? {})
      .map(([capability, entry]) => ({
        capability: Number(capability),
        models: Object.keys(entry.models ?? {}).sort(),
      }))
      .sort((a, b) => a.capability - b.capability),
);
