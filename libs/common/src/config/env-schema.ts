import { ConfigError } from './config-error.js';

/** One environment variable: how to parse it, its default, and whether it is a secret. */
export interface EnvField<T> {
  readonly parse: (raw: string) => T;
  readonly default?: T;
  readonly optional?: boolean;
  /** Secrets are never echoed back, not even in validation errors. */
  readonly secret?: boolean;
  readonly description: string;
}

export type EnvSchema = Record<string, EnvField<unknown>>;

type FieldValue<F> = F extends EnvField<infer T> ? (F['optional'] extends true ? T | undefined : T) : never;

export type EnvValues<S extends EnvSchema> = { readonly [K in keyof S]: FieldValue<S[K]> };

/**
 * Parses `env` against `schema`, collecting every problem before failing, so a misconfigured
 * service reports all of them in one boot attempt instead of one per restart.
 */
/**
 * Settings that were renamed, old name → new name. A service whose schema has the new name refuses
 * to start while the old one is set: silently ignored, it would leave the operator's value unused.
 */
export const RENAMED_ENV: Readonly<Record<string, string>> = {
  SENDER_MONITOR_LOG_CHUNK_BLOCKS: 'ETH_LOGS_MAX_BLOCKS',
  SENDER_MONITOR_L1_BLOCK_SOURCE: 'ETH_L1_BLOCK_SOURCE',
  SENDER_MONITOR_MIN_GAS_PRICE: 'ETH_MIN_GAS_PRICE',
  SENDER_L1_BLOCK_SECONDS: 'ETH_L1_BLOCK_SECONDS',
};

export function parseEnv<S extends EnvSchema>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
): EnvValues<S> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [old, now] of Object.entries(RENAMED_ENV)) {
    if (now in schema && env[old] !== undefined && env[old].trim() !== '') {
      problems.push(`${old} was renamed ${now}: set ${now} instead`);
    }
  }
  for (const [name, field] of Object.entries(schema)) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') {
      if (field.default !== undefined) values[name] = field.default;
      else if (field.optional) values[name] = undefined;
      else problems.push(`${name} is required (${field.description})`);
      continue;
    }
    try {
      values[name] = field.parse(raw.trim());
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      // A value echoed is one not marked secret, yet it may still be a URL given credentials.
      const shown = field.secret || hasUrlCredentials(raw) ? '' : `=${JSON.stringify(raw)}`;
      problems.push(`${name}${shown} is invalid: ${why}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return values as EnvValues<S>;
}

/** Whether `raw` holds a URL with user:password@ (anywhere: a list of URLs, say). */
function hasUrlCredentials(raw: string): boolean {
  return /[a-z][a-z0-9+.-]*:\/\/[^/?#\s,]*@/i.test(raw);
}
