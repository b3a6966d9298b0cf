import { goJsonNumber, goJsonString, jsonNumberLength, MAX_INT64 } from '#app/ticket';

/**
 * go-livepeer decodes every signer request and webhook reply with Go's `encoding/json` into a
 * struct. This module reads a JSON object the way that fills a struct (goFields) and parses JSON
 * text keeping what Go looks at and `JSON.parse` drops (parseGoJson): the members of an object in
 * document order, repeats included, and each number's source text.
 */

/** One member of a JSON object as written. */
interface Member {
  readonly key: string;
  readonly value: unknown;
  /** A number value's source text (the double JavaScript made of it may be rounded). */
  readonly text?: string;
}

/** The members of each object parseGoJson built (or goFields merged), in document order. */
const membersOf = new WeakMap<object, readonly Member[]>();

/** An object's members: as parsed, else (an object built in code: no repeats) its own entries. */
function members(obj: object): readonly Member[] {
  return (
    membersOf.get(obj) ??
    Object.entries(obj as Record<string, unknown>).map(([key, value]) => ({ key, value }))
  );
}

/**
 * Go's key folding (encoding/json foldName: the smallest rune of each case-fold orbit), reduced to
 * what can match our ASCII field names: ASCII letters, plus `ſ` (folds with s) and the Kelvin sign
 * (folds with k). Other non-ASCII letters (`İ`, `ı`, …) fold to nothing ASCII, so match no field.
 */
function fold(key: string): string {
  return key.replace(/[a-z\u017f\u212a]/g, (c) =>
    c === '\u017f' ? 'S' : c === '\u212a' ? 'K' : c.toUpperCase(),
  );
}

/**
 * The Go type of a struct field, which decides how Go fills it from a JSON member:
 * - `string`, `number` (`json.Number`: a JSON number, or a string holding one), `int` (`int`,
 *   `int64`), `struct`: a `null` member leaves the field as it was;
 * - `bytes` (`[]byte`), `*int`, `*struct`: a `null` member empties the field;
 * - `struct`, `*struct`: each object member fills the fields it names into the same value (Go
 *   decodes a repeated key into the existing struct), so repeated objects merge.
 */
export type GoKind = 'string' | 'number' | 'int' | 'bytes' | '*int' | 'struct' | '*struct';

const isString = (v: unknown) => typeof v === 'string';
const isNumber = (v: unknown) => typeof v === 'number';
const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

const KINDS: Readonly<Record<GoKind, { fits: (v: unknown) => boolean; nullEmpties: boolean }>> = {
  string: { fits: isString, nullEmpties: false },
  number: { fits: (v) => isNumber(v) || isString(v), nullEmpties: false },
  int: { fits: isNumber, nullEmpties: false },
  bytes: { fits: isString, nullEmpties: true },
  '*int': { fits: isNumber, nullEmpties: true },
  struct: { fits: isObject, nullEmpties: false },
  '*struct': { fits: isObject, nullEmpties: true },
};

const INTEGER_TEXT = /^-?(?:0|[1-9]\d*)$/;

/**
 * The integer Go decodes a number member into an `int`/`int64` field: its literal must have no
 * fraction or exponent (`1.0`, `1e3` fail decoding) and fit 64 bits. Undefined when it does not.
 */
function goInteger(m: Member): bigint | undefined {
  let n: bigint;
  if (m.text !== undefined) {
    if (!INTEGER_TEXT.test(m.text)) return undefined;
    n = BigInt(m.text);
  } else {
    // Built in code, not parsed: no literal to check, so any safe-integer double is taken.
    if (!Number.isSafeInteger(m.value)) return undefined;
    n = BigInt(m.value as number);
  }
  return n >= -MAX_INT64 - 1n && n <= MAX_INT64 ? n : undefined;
}

/**
 * Reads field `name` (ASCII) of kind `kind` from a JSON object as Go's `encoding/json` fills a
 * struct field: every key that folds to `name` fills it, in document order, so the last wins
 * (an exact-case key has no precedence over a later folded one); `null` as GoKind says; struct
 * kinds merge. Returns undefined when no member fills it; `null` for a bytes/pointer field a
 * `null` emptied last; a bigint for an int field; a number member's source text for `number`; a
 * struct as an object (read it with goFields again). When any matching member has a type Go
 * refuses (a string for an int, `1.0` for an int, a number for a string, …), that member's value
 * is returned as is, for the caller to refuse as its own field: Go fails the whole decode then
 * (HTTP 400), even when a later key would have replaced the value.
 */
export function goFields(obj: object): (name: string, kind: GoKind) => unknown {
  const list = members(obj);
  const keys = list.map((m) => fold(m.key));
  return (name, kind) => goField(list, keys, fold(name), kind);
}

function goField(list: readonly Member[], keys: readonly string[], want: string, kind: GoKind): unknown {
  const { fits, nullEmpties } = KINDS[kind];
  const intKind = kind === 'int' || kind === '*int';
  const structKind = kind === 'struct' || kind === '*struct';
  let last: Member | undefined;
  /** Struct kinds: the members of every object since the last emptying `null`. */
  let parts: Member[] = [];
  for (const [i, m] of list.entries()) {
    if (keys[i] !== want) continue;
    if (m.value === null) {
      if (nullEmpties) {
        last = m;
        parts = [];
      }
      continue;
    }
    if (!fits(m.value) || (intKind && goInteger(m) === undefined)) return m.value;
    last = m;
    if (structKind) parts.push(...members(m.value as object));
  }
  if (last === undefined || last.value === null) return last?.value;
  if (structKind) return merged(parts);
  if (intKind) return goInteger(last);
  if (kind === 'number' && last.text !== undefined) return last.text;
  return last.value;
}

/** An object holding `parts` as its members (each own property the last of its key). */
function merged(parts: Member[]): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const m of parts) define(obj, m.key, m.value);
  membersOf.set(obj, parts);
  return obj;
}

/** As JSON.parse sets a member: an own data property, even for `__proto__`. */
function define(obj: object, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * A `maxPrice` object read as Go fills `runner.LiveRunnerPriceInfo` (price a `json.Number`, so
 * a JSON number is handed on as its source text, never as the double JavaScript rounded it to;
 * currency and unit strings); anything else as given, for parseMaxPrice to refuse.
 */
export function goMaxPrice(raw: unknown): unknown {
  if (!isObject(raw)) return raw;
  const get = goFields(raw as object);
  return { price: get('price', 'number'), currency: get('currency', 'string'), unit: get('unit', 'string') };
}

/** A JSON number kept as the text it was read from: Go's `json.Number` writes it back verbatim. */
export class NumberText {
  constructor(readonly text: string) {}
}

/**
 * JSON text of `value` as Go's `encoding/json` writes the same data (members in their order, left
 * out when undefined): strings and keys as Go escapes them (goJsonString: HTML's `< > &`,
 * U+2028/U+2029, a lone surrogate as U+FFFD), a bigint and a NumberText as the number they hold,
 * exactly (a double would round past 15 significant digits; Go writes an integer or a json.Number
 * as it is, goJsonNumber); other values as JSON.stringify writes them.
 */
export function goJsonText(value: unknown): string {
  if (value instanceof NumberText) return goJsonNumber(value.text);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return goJsonString(value);
  if (Array.isArray(value)) return `[${value.map((v) => goJsonText(v === undefined ? null : v)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${members.map(([k, v]) => `${goJsonString(k)}:${goJsonText(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Go's json decoder refuses nesting deeper than this (10000 containers; the 10001st fails). */
export const MAX_JSON_DEPTH = 10_000;
const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);

/**
 * JSON text to values exactly as `JSON.parse` builds them (same grammar, duplicate keys the last
 * winning, `__proto__` an ordinary key), except that each object's members are also kept in
 * document order with every number's source text, for goFields: Go fills a struct from each
 * member in turn, and its `json.Number` and integer fields read a number's literal, where
 * JavaScript's double rounds past 15 significant digits and forgets `1.0` was not `1`.
 * Nesting deeper than Go's 10000 levels is refused; the parser keeps its own stack, so no depth
 * can exhaust JavaScript's. Throws SyntaxError.
 *
 * The whole text must be one JSON value, as Go's `json.Unmarshal` requires; with `firstValue`,
 * only its first value is read and whatever follows is ignored, as Go's `json.NewDecoder(r).
 * Decode` reads a request body.
 */
export function parseGoJson(text: string, opts: { firstValue?: boolean } = {}): unknown {
  const reader = new JsonReader(text);
  const value = reader.value();
  if (opts.firstValue) return value;
  reader.space();
  if (reader.at < text.length) throw reader.unexpected();
  return value;
}

/** A container being read: an object (waiting for the value of `key`) or an array. */
type Frame =
  | { readonly obj: Record<string, unknown>; readonly members: Member[]; key: string }
  | { readonly arr: unknown[] };

class JsonReader {
  at = 0;

  constructor(private readonly text: string) {}

  /** One JSON value from `at`; containers are tracked on `open`, not on the call stack. */
  value(): unknown {
    const open: Frame[] = [];
    for (;;) {
      this.space();
      const c = this.text[this.at];
      let value: unknown;
      let numberText: string | undefined;
      if (c === '{' || c === '[') {
        if (open.length >= MAX_JSON_DEPTH) {
          throw new SyntaxError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels at position ${this.at}`);
        }
        this.at++;
        this.space();
        const close = c === '{' ? '}' : ']';
        if (this.text[this.at] !== close) {
          if (c === '{') {
            const frame = { obj: {} as Record<string, unknown>, members: [] as Member[], key: '' };
            this.key(frame);
            open.push(frame);
          } else {
            open.push({ arr: [] });
          }
          continue;
        }
        this.at++;
        value = c === '{' ? {} : [];
      } else {
        const start = this.at;
        value = this.scalar();
        if (typeof value === 'number') numberText = this.text.slice(start, this.at);
      }
      // A value is complete: add it to its container, and close every container it completes.
      for (;;) {
        const top = open.at(-1);
        if (top === undefined) return value;
        if ('arr' in top) top.arr.push(value);
        else {
          define(top.obj, top.key, value);
          top.members.push(
            numberText === undefined ? { key: top.key, value } : { key: top.key, value, text: numberText },
          );
        }
        numberText = undefined;
        this.space();
        const d = this.text[this.at++];
        if (d === ',') {
          if (!('arr' in top)) this.key(top);
          break;
        }
        if (d !== ('arr' in top ? ']' : '}')) {
          this.at--;
          throw this.unexpected();
        }
        open.pop();
        if ('arr' in top) value = top.arr;
        else {
          membersOf.set(top.obj, top.members);
          value = top.obj;
        }
      }
    }
  }

  space(): void {
    for (;;) {
      const c = this.text[this.at];
      if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') return;
      this.at++;
    }
  }

  unexpected(): SyntaxError {
    const c = this.text[this.at];
    return new SyntaxError(
      c === undefined ? 'unexpected end of JSON' : `unexpected ${JSON.stringify(c)} at position ${this.at}`,
    );
  }

  /** A member's key and its colon, into `frame.key`. */
  private key(frame: { key: string }): void {
    this.space();
    if (this.text[this.at] !== '"') throw this.unexpected();
    frame.key = this.string();
    this.space();
    if (this.text[this.at] !== ':') throw this.unexpected();
    this.at++;
  }

  /** A string, literal or number. */
  private scalar(): unknown {
    if (this.text[this.at] === '"') return this.string();
    for (const [word, value] of LITERALS) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    const length = jsonNumberLength(this.text, this.at);
    if (length === 0) throw this.unexpected();
    this.at += length;
    return Number(this.text.slice(this.at - length, this.at));
  }

  private string(): string {
    let out = '';
    let from = ++this.at;
    for (;;) {
      const c = this.text[this.at];
      if (c === undefined || c < ' ') throw this.unexpected();
      if (c === '"') break;
      if (c !== '\\') {
        this.at++;
        continue;
      }
      out += this.text.slice(from, this.at);
      const e = this.text[this.at + 1];
      if (e === 'u') {
        const hex = this.text.slice(this.at + 2, this.at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          this.at++;
          throw this.unexpected();
        }
        out += String.fromCharCode(parseInt(hex, 16));
        this.at += 6;
      } else {
        const plain = e === undefined ? undefined : ESCAPES.get(e);
        if (plain === undefined) {
          this.at++;
          throw this.unexpected();
        }
        out += plain;
        this.at += 2;
      }
      from = this.at;
    }
    out += this.text.slice(from, this.at);
    this.at++;
    return out;
  }
}

const LITERALS: readonly (readonly [string, unknown])[] = [
  ['true', true],
  ['false', false],
  ['null', null],
];
