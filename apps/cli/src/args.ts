import { parseArgs } from 'node:util';
import { usageError } from './cli.error.js';

/** One command-line option; the description feeds `--help`. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder shown in help, e.g. `<file>`. */
  value?: string;
  description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type RawValue = string | boolean | (string | boolean)[] | undefined;

/** Parsed arguments of one command, with typed accessors that turn a wrong shape into a usage error. */
export class Args {
  constructor(
    private readonly values: Readonly<Record<string, RawValue>>,
    readonly positionals: readonly string[],
  ) {}

  string(name: string): string | undefined {
    const v = this.values[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw usageError(`--${name} needs a value`);
    return v;
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  list(name: string): string[] {
    const v = this.values[name];
    if (v === undefined) return [];
    return (Array.isArray(v) ? v : [v]).map((item) => {
      if (typeof item !== 'string' || item === '') throw usageError(`--${name} needs a value`);
      return item;
    });
  }

  /** A non-negative integer option (counts, rounds, seconds). */
  uint(name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) > max) {
      throw usageError(`--${name} must be a whole number between 0 and ${max}, got "${raw}"`);
    }
    return Number(raw);
  }
}

/** `parseArgs` in strict mode; its complaints (unknown option, missing value) become usage errors. */
export function parseCommandArgs(argv: readonly string[], options: OptionSpecs): Args {
  const config = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: config,
      strict: true,
      allowPositionals: true,
    });
    return new Args(values, positionals);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      // Node appends a long hint about `--` to unknown options; the first sentence is the point.
      throw usageError((err as Error).message.split('. ')[0].replace(/\.$/, ''));
    }
    throw err;
  }
}

/** Options every command takes. */
export const OUTPUT_OPTIONS = {
  json: { type: 'boolean', description: 'print the result as JSON on stdout (amounts in wei, as strings)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
} as const satisfies OptionSpecs;

/** Where the chain is. */
export const CHAIN_OPTIONS = {
  'rpc-url': {
    type: 'string',
    value: '<url>',
    description: 'chain JSON-RPC endpoint (default: ETH_RPC_URL; prefer the env for URLs holding keys)',
  },
  controller: {
    type: 'string',
    value: '<address>',
    description: 'Controller address (default: CONTROLLER_ADDRESS)',
  },
} as const satisfies OptionSpecs;

/** Who signs. */
export const SIGNER_OPTIONS = {
  keystore: {
    type: 'string',
    value: '<file>',
    description: 'V3 keystore of the signing account (default: KEYSTORE_FILE)',
  },
  'password-file': {
    type: 'string',
    value: '<file>',
    description: 'file holding the keystore password (default: KEYSTORE_PASSWORD, else a prompt)',
  },
  'private-key-env': {
    type: 'string',
    value: '<NAME>',
    description: 'sign with the private key held in environment variable NAME (dev)',
  },
} as const satisfies OptionSpecs;

/** How long to wait for a transaction. */
export const TX_OPTIONS = {
  confirmations: { type: 'string', value: '<n>', description: 'confirmations to wait for (default 1)' },
  timeout: {
    type: 'string',
    value: '<seconds>',
    description: 'stop waiting for confirmations after this long (default 300)',
  },
} as const satisfies OptionSpecs;
