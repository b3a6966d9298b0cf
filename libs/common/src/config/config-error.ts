import { AppError } from '#app/core';

export enum ConfigErrorCode {
  INVALID_CONFIG = 'INVALID_CONFIG',
}

/** Thrown once at boot with every invalid or missing setting listed, so an operator fixes all at once. */
export class ConfigError extends AppError<ConfigErrorCode> {
  readonly domain = 'config';

  constructor(readonly problems: readonly string[]) {
    super(ConfigErrorCode.INVALID_CONFIG, `invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}
