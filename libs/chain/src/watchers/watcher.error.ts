import { AppError } from '#app/common';

export enum WatcherErrorCode {
  /** No head has been processed yet (the RPC has not answered since boot): nothing can be told. */
  NOT_SYNCED = 'NOT_SYNCED',
  /** A JSON-RPC request failed or timed out. The message never carries the endpoint URL. */
  RPC_FAILED = 'RPC_FAILED',
  /** The gas price is above the configured maximum (go-livepeer `-maxGasPrice`); retry later. */
  GAS_PRICE_TOO_HIGH = 'GAS_PRICE_TOO_HIGH',
}

/** Failures of the chain watchers. All of them are transient: the next poll may clear them. */
export class WatcherError extends AppError<WatcherErrorCode> {
  readonly domain = 'chain-watcher';
}
