import { AppError } from '#app/common';

export enum WatcherErrorCode {
  /** No head has been processed yet (the RPC has not answered since boot): nothing can be told. */
  NOT_SYNCED = 'NOT_SYNCED',
  /** A JSON-RPC request failed or timed out. The message never carries the endpoint URL. */
  RPC_FAILED = 'RPC_FAILED',
}

/** Failures of the chain watchers. All of them are transient: the next poll may clear them. */
export class WatcherError extends AppError<WatcherErrorCode> {
  readonly domain = 'chain-watcher';
}
