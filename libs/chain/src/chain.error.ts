import { AppError } from '#app/common';

export enum ChainErrorCode {
  /** contracts/artifacts is missing or lacks a contract: run `npm run build:contracts`. */
  ARTIFACT_MISSING = 'ARTIFACT_MISSING',
  /** The Controller has no address registered under a name the services need. */
  CONTRACT_NOT_REGISTERED = 'CONTRACT_NOT_REGISTERED',
  /** A dev-chain helper was given a provider that cannot send raw JSON-RPC (e.g. `anvil_mine`). */
  UNSUPPORTED_PROVIDER = 'UNSUPPORTED_PROVIDER',
  /** The chain RPC has not answered yet (services keep retrying; health reports it). */
  CHAIN_UNAVAILABLE = 'CHAIN_UNAVAILABLE',
}

export class ChainError extends AppError<ChainErrorCode> {
  readonly domain = 'chain';
}
