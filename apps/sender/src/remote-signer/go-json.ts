/**
 * Go's `encoding/json` matches object keys to struct fields case-insensitively, and when several
 * keys fill the same field the last one wins; go-livepeer's callers and webhooks rely on the
 * casing (`ManifestID`, `state.State`, `Status`). The getter reads a JSON object the way Go
 * would fill a struct from it.
 */
export function goFields(obj: Record<string, unknown>): (name: string) => unknown {
  const folded = new Map<string, unknown>();
  for (const [k, v] of Object.entries(obj)) folded.set(k.toLowerCase(), v);
  return (name) => folded.get(name.toLowerCase());
}

/**
 * A `maxPrice` object with its keys read as Go fills `runner.LiveRunnerPriceInfo`; else as given.
 * Go decodes `price` as a `json.Number`, which keeps a number's text: so a JSON number parsed by
 * parseGoJson is handed on as its source text, never as the double JavaScript rounded it to.
 */
export function goMaxPrice(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const get = goFields(raw as Record<string, unknown>);
  const price = get('price');
  return {
    price: typeof price === 'number' ? (goNumberText(raw, 'price') ?? price) : price,
    currency: get('currency'),
    unit: get('unit'),
  };
}

/** The source text of the number members of each object parseGoJson built, by key. */
const numberTexts = new WeakMap<object, Map<string, string>>();

/**
 * The source text of the JSON number Go would decode into field `name` of `obj` (keys folded as
 * goFields folds them); undefined when that member is no number or `obj` was not parsed here.
 */
export function goNumberText(obj: object, name: string): string | undefined {
  const texts = numberTexts.get(obj);
  if (texts === undefined) return undefined;
  const want = name.toLowerCase();
  let text: string | undefined;
  for (const key of Object.keys(obj)) if (key.toLowerCase() === want) text = texts.get(key);
  return text;
}

/** Nesting deeper than any request or webhook reply has; refused rather than risking the stack. */
const MAX_DEPTH = 256;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
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
 * winning, `__proto__` an ordinary key), except that the source text of every number member of an
 * object is also kept, for goNumberText: JavaScript's doubles round a number of more than 15
 * significant digits, where Go's `json.Number` and `big.Rat` read it exactly. Throws SyntaxError.
 */
export function parseGoJson(text: string): unknown {
  const reader = new JsonReader(text);
  const value = reader.value(0);
  reader.space();
  if (reader.at < text.length) throw reader.unexpected();
  return value;
}

class JsonReader {
  at = 0;

  constructor(private readonly text: string) {}

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw new SyntaxError(`JSON nested deeper than ${MAX_DEPTH} levels`);
    this.space();
    const c = this.text[this.at];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    for (const [word, value] of LITERALS) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    return Number(this.number());
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

  private expect(c: string): void {
    this.space();
    if (this.text[this.at] !== c) throw this.unexpected();
    this.at++;
  }

  private object(depth: number): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    const texts = new Map<string, string>();
    this.at++;
    this.space();
    if (this.text[this.at] === '}') {
      this.at++;
      return obj;
    }
    for (;;) {
      this.space();
      if (this.text[this.at] !== '"') throw this.unexpected();
      const key = this.string();
      this.expect(':');
      this.space();
      const start = this.at;
      const value = this.value(depth + 1);
      // As JSON.parse: an own data property, even for `__proto__`; a repeated key keeps its place.
      Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
      if (typeof value === 'number') texts.set(key, this.text.slice(start, this.at));
      else texts.delete(key);
      this.space();
      const c = this.text[this.at++];
      if (c === '}') break;
      if (c !== ',') {
        this.at--;
        throw this.unexpected();
      }
    }
    if (texts.size > 0) numberTexts.set(obj, texts);
    return obj;
  }

  private array(depth: number): unknown[] {
    const out: unknown[] = [];
    this.at++;
    this.space();
    if (this.text[this.at] === ']') {
      this.at++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.space();
      const c = this.text[this.at++];
      if (c === ']') return out;
      if (c !== ',') {
        this.at--;
        throw this.unexpected();
      }
    }
  }

  private number(): string {
    NUMBER.lastIndex = this.at;
    const m = NUMBER.exec(this.text);
    if (m === null) throw this.unexpected();
    this.at += m[0].length;
    return m[0];
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
