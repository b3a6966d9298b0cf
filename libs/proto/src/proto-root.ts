import { isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import { LP_RPC_PROTO, PROTO_DIR, REDEEMER_PROTO } from './proto-paths.js';

// Loaded once from the .proto files with protobufjs (no generated code to keep in sync).
// Imports such as "net/lp_rpc.proto" resolve against PROTO_DIR, as with protoc's -I.
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(PROTO_DIR, target));
root.loadSync([LP_RPC_PROTO, REDEEMER_PROTO]);

export const protoTypes = {
  TicketParams: root.lookupType('net.TicketParams'),
  TicketSenderParams: root.lookupType('net.TicketSenderParams'),
  TicketExpirationParams: root.lookupType('net.TicketExpirationParams'),
  PriceInfo: root.lookupType('net.PriceInfo'),
  Payment: root.lookupType('net.Payment'),
  OrchestratorInfo: root.lookupType('net.OrchestratorInfo'),
  OrchestratorRequest: root.lookupType('net.OrchestratorRequest'),
  OrchestratorCapabilityPrices: root.lookupType('net.OrchestratorCapabilityPrices'),
  CapabilityModels: root.lookupType('net.CapabilityModels'),
  AuthToken: root.lookupType('net.AuthToken'),
  SegData: root.lookupType('net.SegData'),
  Ticket: root.lookupType('net.Ticket'),
  QueueTicketRes: root.lookupType('net.QueueTicketRes'),
  MaxFloatReq: root.lookupType('net.MaxFloatReq'),
  MaxFloatUpdate: root.lookupType('net.MaxFloatUpdate'),
};
