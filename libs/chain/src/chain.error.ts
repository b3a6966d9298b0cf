import { AppError } from '#app/common';

export enum ChainErrorCode {
  /** contracts/artifacts is missing or lacks a contract: run `npm run build:contracts`. */
  ARTIFACT_MISSING = 'ARTIFACT_MISSING',
  /** The Controller has no address registered under a name the services need. */
  CONTRACT_NOT_REGISTERED = 'CONTRACT_NOT_REGISTERED',
  /**
   * The BondingManager's transcoder pool did not end within getTranscoderPoolSize() steps (a cycle
   * or a list longer than its size), or is larger than the walk's cap.
   */
  INVALID_TRANSCODER_POOL = 'INVALID_TRANSCODER_POOL',
  /** A dev-chain helper was given a provider that cannot send raw JSON-RPC (e.g. `anvil_mine`). */
  UNSUPPORTED_PROVIDER = 'UNSUPPORTED_PROVIDER',
  /** The chain RPC has not answered yet (services keep retrying; health reports it). */
  CHAIN_UNAVAILABLE = 'CHAIN_UNAVAILABLE',

  // Transactions and calls, classified once by `classifyChainError` (libs/chain/src/tx).
  /** A call, gas estimate or mined tx reverted; the revert reason is in the message. Permanent for that state. */
  REVERTED = 'REVERTED',
  /** The nonce was already used on chain: reconcile the nonce source and retry. */
  NONCE_TOO_LOW = 'NONCE_TOO_LOW',
  /** A same-nonce replacement did not raise the fees enough for the node. Retryable. */
  REPLACEMENT_UNDERPRICED = 'REPLACEMENT_UNDERPRICED',
  /** The fee cap is below the base fee or the node's minimum. Retryable with higher fees. */
  FEE_TOO_LOW = 'FEE_TOO_LOW',
  /** The signing account cannot pay gas × fee + value. Retryable once it is topped up. */
  SIGNER_INSUFFICIENT_FUNDS = 'SIGNER_INSUFFICIENT_FUNDS',
  /** A tx was never mined: its nonce was consumed by another tx, or the node refused it for good. */
  TX_DROPPED = 'TX_DROPPED',
  /** The request itself is malformed (bad argument, undecodable data). Permanent. */
  INVALID_TRANSACTION = 'INVALID_TRANSACTION',
  /** The signing key or keystore could not be loaded. */
  INVALID_SIGNER = 'INVALID_SIGNER',
  /** Any other node error; treated as transient. */
  RPC_ERROR = 'RPC_ERROR',
}

export class ChainError extends AppError<ChainErrorCode> {
  readonly domain = 'chain';
}
