import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseApiTokens } from '../../apps/sender/src/auth/api-tokens.js';
import { ensureDemoApiToken } from './demo-api-tokens.js';

const TOKEN = 'demo-0123456789abcdef0123456789abcdef';
const SENDER = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const USER = `# my own broadcaster
clients:
  - name: demo-broadcaster
    token: "${TOKEN}"
    senders: ["${SENDER}"]
  - name: my-gateway # added by hand
    token: "my-own-token-0123456789"
    senders: ["0x90F79bf6EB2c4f870365E785982E1f101E93b906"]
`;

/** What the Sender would make of the file: client names and their accounts. */
function asSenderReadsIt(file: string): Record<string, string[]> {
  const problems: string[] = [];
  const clients = parseApiTokens(parse(readFileSync(file, 'utf8')), file, problems);
  expect(problems).toEqual([]);
  return Object.fromEntries(clients.map((c) => [c.name, [...c.senders]]));
}

describe("npm start and the Sender's API tokens file", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'demo-tokens-'));
    file = join(dir, 'api-tokens.yaml');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file with the demo client when it is missing, readable only by its owner', () => {
    ensureDemoApiToken(file, TOKEN, SENDER);
    expect(asSenderReadsIt(file)).toEqual({ 'demo-broadcaster': [SENDER.toLowerCase()] });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain('keeps your edits');
  });

  it("leaves a user's file byte for byte when the demo entry is already right", () => {
    writeFileSync(file, USER);
    ensureDemoApiToken(file, TOKEN, SENDER);
    expect(readFileSync(file, 'utf8')).toBe(USER);
  });

  it("restores the demo entry and keeps the user's clients and comments", () => {
    writeFileSync(file, USER.replace(TOKEN, 'an-old-token-of-the-demo-0000'));
    ensureDemoApiToken(file, TOKEN, SENDER);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# added by hand');
    expect(text).toContain('# my own broadcaster');
    expect(asSenderReadsIt(file)).toEqual({
      'demo-broadcaster': [SENDER.toLowerCase()],
      'my-gateway': ['0x90f79bf6eb2c4f870365e785982e1f101e93b906'],
    });
    expect(text).toContain(TOKEN);
    expect(text).not.toContain('an-old-token-of-the-demo');
  });

  it('adds the demo entry to a file that lacks it', () => {
    writeFileSync(
      file,
      USER.split('\n').slice(0, 2).join('\n') + '\n' + USER.split('\n').slice(5).join('\n'),
    );
    expect(asSenderReadsIt(file)).toEqual({ 'my-gateway': ['0x90f79bf6eb2c4f870365e785982e1f101e93b906'] });
    ensureDemoApiToken(file, TOKEN, SENDER);
    expect(Object.keys(asSenderReadsIt(file)).sort()).toEqual(['demo-broadcaster', 'my-gateway']);
  });

  it('refuses a broken file without touching it or echoing it', () => {
    const broken = 'clients: [ {name: x, token: "secret-token-not-to-echo"\n';
    writeFileSync(file, broken);
    expect(() => ensureDemoApiToken(file, TOKEN, SENDER)).toThrow(/not a YAML mapping with a "clients" list/);
    expect(() => ensureDemoApiToken(file, TOKEN, SENDER)).not.toThrow(/secret-token/);
    expect(readFileSync(file, 'utf8')).toBe(broken);
  });
});
