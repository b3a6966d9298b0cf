import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { addressTextProblem } from '#app/ticket';

/**
 * Reads a YAML (or JSON, a subset of it) settings file. Problems go to `problems` and the result
 * is undefined, so the boot can list every problem at once. Integers become bigints, so amounts
 * never pass through a JS number. For a `secret` file (API tokens) a parse error reports only
 * the position: the yaml library's own message quotes the offending line.
 */
export function readYamlFile(
  path: string,
  setting: string,
  problems: string[],
  opts: { secret?: boolean } = {},
): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${setting}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  const doc = parseDocument(text, { intAsBigInt: true, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const where = err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
    // The first line of a pretty message already names the position; the lines after quote the file.
    const why = opts.secret
      ? `${err.code}${where}`
      : (err.message.split('\n')[0] ?? err.code).replace(/:$/, '');
    problems.push(`${setting}: ${path} is not valid YAML: ${why}`);
    return undefined;
  }
  return doc.toJS() as unknown;
}

/** Reads a secret from a file: the whole content, less one trailing newline. */
export function readSecretFile(path: string, setting: string, problems: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    problems.push(`${setting}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/** A plain object (YAML mapping), for shape checks of parsed files. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A 0x-prefixed 20-byte hex address, lowercased; undefined when malformed or mixed case failing EIP-55. */
export function parseAddressHex(value: unknown): string | undefined {
  return typeof value === 'string' && addressTextProblem(value) === null ? value.toLowerCase() : undefined;
}
