import { parseEnv, type EnvSchema, type EnvValues } from './env-schema.js';

export interface ConfigInstance<S extends EnvSchema> {
  readonly values: EnvValues<S>;
  /** The configuration with every secret replaced by `[redacted]`, safe to log. */
  redacted(): Record<string, unknown>;
}

/**
 * Makes a config class for one app: a DI token holding the values parsed from the environment.
 * `fromEnv` is the only place in the code base that reads `process.env`.
 */
export function configClass<S extends EnvSchema>(schema: S) {
  return class AppConfig implements ConfigInstance<S> {
    static readonly schema = schema;

    constructor(readonly values: EnvValues<S>) {}

    static fromEnv<T extends AppConfig>(
      this: new (values: EnvValues<S>) => T,
      env: Readonly<Record<string, string | undefined>> = process.env,
    ): T {
      return new this(parseEnv(schema, env));
    }

    redacted(): Record<string, unknown> {
      const out: Record<string, unknown> = {};
      for (const [name, field] of Object.entries(schema)) {
        const v = (this.values as Record<string, unknown>)[name];
        out[name] = field.secret && v !== undefined ? '[redacted]' : typeof v === 'bigint' ? v.toString() : v;
      }
      return out;
    }
  };
}
