export * from './constants.js';
export * from './params-expiry.js';
export {
  inLastValidRound,
  lastValidCreationRound,
  lastValidRound,
  ticketValidityExpired,
} from './ticket-validity.js';
export * from './errors.js';
export * from './types.js';
export * from './rational.js';
export {
  bytesToHex,
  hexToBytes,
  bytesToBigInt,
  minBytes,
  uint256Bytes,
  equalBytes,
  isZeroBytes,
  fitBytes,
  uint256Text,
} from './bytes.js';
export { keccak256, keccakImplementation } from './keccak.js';
export { toChecksumAddress, parseAddress, addressTextProblem } from './address.js';
export { auxData, hasAuxData } from './aux-data.js';
export {
  TicketHasher,
  encodeTicket,
  redeemedTicketHash,
  ticketHash,
  ticketHashText,
  ticketTemplate,
  type TicketTemplate,
  type TicketTemplateSource,
} from './ticket-hash.js';
export {
  SignatureFault,
  PersonalDigester,
  personalDigest,
  personalSigner,
  signatureFault,
  signatureFormatFault,
  verifyTicketSignature,
  signTicketHash,
} from './signature.js';
export type { CryptoBackend, CryptoBackendName } from './crypto/backend.js';
export { nobleBackend } from './crypto/noble-backend.js';
export { nativeBackend, availableBackends, selectCryptoBackend } from './crypto/select-backend.js';
export { WinChecker, winRandomness, isWinningTicket } from './win.js';
export { ticketEV, winProbRat, winProbForEV } from './ev.js';
export {
  committedRecipientRand,
  computeRecipientRand,
  recipientRandHash,
  recipientRandMessage,
  recipientRandInput,
  type RecipientRandInput,
  type RecipientRandSource,
} from './recipient-rand.js';
export { maxFloat, reserveAllocation, usableMaxFloat, type MaxFloatInputs } from './max-float.js';
export {
  faceValueFor,
  txCostMultiplierOf,
  type FaceValueOutcome,
  type FaceValuePolicy,
} from './face-value.js';
export {
  isSenderLocked,
  isUnlockingSoon,
  senderUnlockingError,
  assertSenderNotUnlocking,
} from './sender-unlock.js';
export {
  validateTicketParams,
  type SenderParamsPolicy,
  type SenderChainFacts,
} from './sender-params-validator.js';
export { NonceLedger, InMemoryNonceLedger, NonceOutcome } from './nonce-ledger.js';
export {
  TicketCheckStatus,
  packTicketBatch,
  verifyPackedBatch,
  verifyPackedBatches,
  statusFault,
  type PackedTicketBatch,
  type TicketBatchChecks,
} from './batch-verifier.js';
export {
  validateTicket,
  validateWinningTicket,
  receiveTicketBatch,
  inThreadVerifier,
  type BatchVerifier,
  type RecipientContext,
  type ReceivedTicket,
  type ReceiveOptions,
  type ValidTickets,
} from './ticket-validator.js';
export { pricePerPixel, ticketBatchFromPayment, paymentFromTicketBatch } from './payment.js';
export { batchExpirationParams, type OwnRoundView } from './batch-expiration.js';
export {
  createTicketBatch,
  signTicketBatch,
  type TicketBatchRequest,
  type TicketBatchTemplate,
} from './ticket-signer.js';
export { AccountSigner, PrivateKeySigner } from './account-signer.js';
export { ValidationPool, type ValidationPoolOptions } from './pool/validation-pool.js';
export {
  RecoveryHelper,
  type RecoveryHelperCounts,
  type RecoveryHelperOptions,
} from './pool/recovery-helper.js';
export {
  RecoveryMark,
  recoverInThread,
  type RecoveredSigners,
  type RecoveryJobs,
  type SignerRecovery,
} from './signer-recovery.js';
export { SenderMonitor } from './sender-monitor.port.js';
export {
  MAX_REMOTE_TICKETS,
  LIVE_PREPAID_MS,
  LV2V_PREPAID_MS,
  LV2V_PIXELS_PER_SECOND,
  MAX_IN_PIXELS,
  MAX_STATE_BYTES,
  EMPTY_SEGMENT_HASH,
  parseRemotePaymentType,
  billableUnits,
  unitPrice,
  remoteFee,
  ticketsNeeded,
  balanceAfter,
  ratString,
  parseRatString,
  stateBalanceText,
  exceededCeiling,
  isJsonNumber,
  jsonNumberLength,
  MAX_DECIMAL_EXPONENT,
  readDecimal,
  type DecimalRefusal,
  type DecimalSyntax,
  parseDecimal,
  parseMaxPrice,
  segmentFlatten,
  orchestratorInfoPayload,
  encodeRemoteState,
  decodeRemoteState,
  remoteStateJson,
  BYOC_JOB_DOMAIN_V1,
  BYOC_CAPABILITY,
  BYOC_MIN_PREPAID_SECONDS,
  byocCapabilityName,
  byocPrice,
  type ByocBilling,
  MAX_BYOC_TIMEOUT_SECONDS,
  MAX_AUTH_ID_CHARS,
  AI_PIPELINE_CAPABILITY,
  flattenByocJob,
  legacyByocJobPayload,
  legacyByocPayloadFault,
  type ByocJobSigningInput,
  type RemotePaymentType,
  type RemotePaymentState,
  type UnitPrice,
  type PriceCeiling,
  USAGE_MAX_PRICE_UNIT,
} from './remote-payment.js';
export {
  DEFAULT_USAGE_MAX_UNITS,
  attestationSigningBytes,
  ceilUnits,
  decodeOrchSig,
  goDecodedString,
  goJsonNumber,
  goJsonString,
  lockUsageQuote,
  parseUsageUnits,
  quoteSigningBytes,
  usageFee,
  usageUnits,
  verifyOrchSigned,
  verifyUsageAttestation,
  type PersonalRecover,
  type UsageAttestation,
  type UsageQuote,
  type UsageQuoteContext,
  type UsageQuoteLock,
  type UsageUnits,
  type UsageUpstreamPrice,
} from './usage-quote.js';
