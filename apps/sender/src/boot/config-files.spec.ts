import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tokenDigest } from '#app/runtime';
import { parseApiTokens } from '../auth/api-tokens.js';
import { parseContacts } from '../contacts/contacts.js';
import { readYamlFile } from './config-files.js';

const A = `0x${'aa'.repeat(20)}`;
const B = `0x${'bb'.repeat(20)}`;
const dir = mkdtempSync(join(tmpdir(), 'sender-config-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function yaml(name: string, text: string, problems: string[], secret = false): unknown {
  const path = join(dir, name);
  writeFileSync(path, text);
  return readYamlFile(path, 'X', problems, { secret });
}

describe('API tokens file', () => {
  it('keeps only token hashes and the bound senders', () => {
    const problems: string[] = [];
    const doc = yaml(
      't.yaml',
      `clients:\n  - name: gw\n    token: "0123456789abcdef0123"\n    senders: ["${A.toUpperCase().replace('0X', '0x')}"]\n` +
        `  - name: ops\n    tokenSha256: "${tokenDigest('another-token-123456').toString('hex')}"\n    senders: ["${B}"]\n`,
      problems,
      true,
    );
    const clients = parseApiTokens(doc, 't.yaml', problems);
    expect(problems).toEqual([]);
    expect(clients.map((c) => [c.name, [...c.senders]])).toEqual([
      ['gw', [A]],
      ['ops', [B]],
    ]);
    expect(clients[0].tokenHash.equals(tokenDigest('0123456789abcdef0123'))).toBe(true);
    expect(JSON.stringify(clients)).not.toContain('0123456789abcdef0123');
  });

  it('takes spend caps written as plain YAML integers (which arrive as bigints)', () => {
    const problems: string[] = [];
    const doc = yaml(
      'caps.yaml',
      `clients:\n  - name: gw\n    token: "0123456789abcdef0123"\n    senders: ["${A}"]\n` +
        '    spendCap:\n      maxEV: 50000\n      maxFaceValue: "1000000000000000000000"\n      windowSeconds: 3600\n',
      problems,
      true,
    );
    const [client] = parseApiTokens(doc, 'caps.yaml', problems);
    expect(problems).toEqual([]);
    expect(client.spendCap).toEqual({ maxEV: 50_000n, maxFaceValue: 10n ** 21n, windowSeconds: 3600 });
  });

  it('lists every problem without echoing tokens', () => {
    const problems: string[] = [];
    const doc = yaml(
      'bad.yaml',
      'clients:\n  - name: a\n    token: "tiny-secret"\n    senders: []\n  - name: a\n    tokenSha256: "xyz"\n    token: "also-a-secret-value"\n    senders: ["nope"]\n',
      problems,
      true,
    );
    parseApiTokens(doc, 'bad.yaml', problems);
    expect(problems.join('\n')).toMatch(/at least 16 characters/);
    expect(problems.join('\n')).toMatch(/"senders" must be a non-empty list/);
    expect(problems.join('\n')).toMatch(/name "a" is used twice/);
    expect(problems.join('\n')).toMatch(/exactly one of "token" and "tokenSha256"/);
    expect(problems.join('\n')).toMatch(/"nope" is not an address/);
    expect(problems.join('\n')).not.toMatch(/tiny-secret|also-a-secret-value/);
  });

  it('reports a YAML syntax error in a secret file by position only', () => {
    const problems: string[] = [];
    expect(yaml('broken.yaml', 'clients:\n  - token: "secret-value-here\n', problems, true)).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/is not valid YAML: MISSING_CHAR at line \d+, column \d+/);
    expect(problems[0]).not.toContain('secret-value-here');
  });
});

describe('contacts file', () => {
  it('parses contacts with exact price caps', () => {
    const problems: string[] = [];
    const doc = yaml(
      'c.yaml',
      `contacts:\n  - alias: o1\n    address: "${A}"\n    serviceUrl: https://o1.example:8935\n    maxPricePerUnit: 9223372036854775807\n    pixelsPerUnit: 4\n  - alias: o2\n    address: "${B}"\n`,
      problems,
    );
    const contacts = parseContacts(doc, 'c.yaml', problems);
    expect(problems).toEqual([]);
    expect(contacts[0].maxPricePerPixel?.toString()).toBe('9223372036854775807/4');
    expect(contacts[1]).toEqual({
      alias: 'o2',
      addressHex: B,
      serviceUrl: undefined,
      maxPricePerPixel: undefined,
    });
  });

  it('refuses duplicates and bad values', () => {
    const problems: string[] = [];
    const doc = yaml(
      'bad-c.yaml',
      `contacts:\n  - alias: o1\n    address: "${A}"\n  - alias: o1\n    address: "${A}"\n  - alias: o3\n    address: "0x12"\n    maxPricePerUnit: -1\n  - alias: o4\n    address: "${B}"\n    maxPricePerUnit: 5\n    pixelsPerUnit: 0\n`,
      problems,
    );
    parseContacts(doc, 'bad-c.yaml', problems);
    const text = problems.join('\n');
    expect(text).toMatch(/alias "o1" is used twice/);
    expect(text).toMatch(/contacts\[2\]: "address" must be/);
    expect(text).toMatch(/"maxPricePerUnit" must be a non-negative int64/);
    expect(text).toMatch(/"pixelsPerUnit" must be a positive int64/);
  });
});

describe('readYamlFile', () => {
  it('names the position of a syntax error in an ordinary file', () => {
    const problems: string[] = [];
    expect(yaml('broken-c.yaml', 'contacts:\n  - alias: "o1\n', problems)).toBeUndefined();
    expect(problems[0]).toMatch(/is not valid YAML: Missing closing "quote at line \d+, column \d+$/);
  });
});
