export { PROTO_DIR, LP_RPC_PROTO, REDEEMER_PROTO, TICKET_REDEEMER_SERVICE } from './proto-paths.js';
export { GRPC_LOADER_OPTIONS } from './grpc-loader.js';
export { ProtoError, ProtoErrorCode } from './proto-error.js';
export { assertWellFormedMessage, type MessageCodec } from './codec.js';
export type { WireBytes, WireInt64 } from './fields.js';
export {
  ticketParamsCodec,
  ticketSenderParamsCodec,
  ticketExpirationParamsCodec,
  priceInfoCodec,
  paymentCodec,
  type TicketParamsMessage,
  type TicketSenderParamsMessage,
  type TicketExpirationParamsMessage,
  type PriceInfoMessage,
  type PaymentMessage,
} from './lp-rpc-codecs.js';
export {
  redeemerTicketCodec,
  queueTicketResCodec,
  maxFloatReqCodec,
  maxFloatUpdateCodec,
  type TicketMessage,
  type MaxFloatReqMessage,
  type MaxFloatUpdateMessage,
  type MaxFloatRequest,
  type MaxFloatUpdate,
} from './redeemer-codecs.js';
export { encodePaymentHeader, paymentHeaderOf, decodePaymentHeader } from './payment-header.js';
export { rationalMessage, type RationalMessage } from './rational-message.js';
export {
  orchestratorInfoCodec,
  orchestratorRequestCodec,
  type OrchestratorRequest,
  orchestratorCapabilityPricesCodec,
  capabilityModelsCodec,
  type CapabilityModelNames,
  segDataCodec,
  type OrchestratorInfo,
  type AuthToken,
  type SegData,
} from './orchestrator-codecs.js';
